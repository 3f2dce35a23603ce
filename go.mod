module github.com/timebound/backoff

go 1.26

require github.com/jonboulle/clockwork v0.5.0

require pgregory.net/rapid v1.3.0
