package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim/internal/decode"
)

// A Scenario is one call to simulate: the policy's numbers, a script for
// its attempts, and when (if ever) the caller cancels. Its JSON form is
// what trace headers carry and what backoffsim reads; durations are Go
// duration strings ("150ms").
//
// How the policy classifies errors is fixed by the script: an attempt's
// Outcome says what its error is to the policy (retryable, not retryable,
// or retryable and a reason to give up), so no predicate needs encoding.
//
// The pause fields are those of backoff.Policy: Growth, MaxPause and
// Jitter (by name), with Seed for the jitter's random numbers, and a
// server's delay hint per attempt (Attempt.RetryAfter).
type Scenario struct {
	Name           string   `json:"name,omitempty"`
	AttemptTimeout Duration `json:"attempt_timeout,omitempty"`
	Deadline       Duration `json:"deadline,omitempty"`
	Pause          Duration `json:"pause,omitempty"`
	// Growth multiplies the pause after each failure (Policy.Growth): 0
	// or 1 keeps it constant, a finite number above 1 grows it.
	Growth float64 `json:"growth,omitempty"`
	// MaxPause caps every pause (Policy.MaxPause), but one a delay hint
	// asks for. 0: no cap.
	MaxPause Duration `json:"max_pause,omitempty"`
	// Jitter names the policy's jitter (Policy.Jitter), as
	// backoff.Jitter's String writes it: "none", "full", "equal" or
	// "decorrelated". Empty: none.
	Jitter   string `json:"jitter,omitempty"`
	MaxTries int    `json:"max_tries,omitempty"`
	// Abandon says the operation is wrapped in backoff.Abandon: an attempt
	// whose context is done ends then, with the context's error, whatever
	// its OnCancel says (the operation itself runs on, unseen).
	Abandon bool `json:"abandon,omitempty"`
	// Attempts scripts attempt k as Attempts[k-1]; attempts beyond the
	// script repeat its last entry. At least one is needed.
	Attempts []Attempt `json:"attempts"`
	// CancelAt, if set, is when the caller's context is cancelled (with
	// cause ErrCanceled), as a time since the call began; 0: before it.
	CancelAt *Duration `json:"cancel_at,omitempty"`
	// CallerDeadline, if positive, is the deadline of the caller's
	// context, as a time since the call began: the call knows it from the
	// start (a pause that would reach it ends the call at once, as one
	// that would reach Deadline does), and the context is done then, with
	// cause context.DeadlineExceeded. 0: none.
	CallerDeadline Duration `json:"caller_deadline,omitempty"`
	// CallerLate, with a CallerDeadline, is how long after its deadline
	// the caller's context is seen done: a real timer fires late, and a
	// call recorded on the real clock shows by how much. 0: at it.
	CallerLate Duration `json:"caller_late,omitempty"`
	// BudgetAllows, if set, runs the call under a retry budget that
	// allows this many of its retries and refuses the next (Policy gives
	// it a backoff.Budget that holds that many tokens and earns none). A
	// call recorded under a shared Budget that refused it replays so:
	// what the other calls left is not known, only what the budget said.
	// Nil: no budget.
	BudgetAllows *int `json:"budget_allows,omitempty"`
	// Flip lists the ties (counted from 0, in the order they arise; see
	// Result.Ties) at which the event scheduled later is taken first. An
	// executor on a real clock may see either order at a tie; Flip lets a
	// simulation, and so a trace, take the other one.
	Flip []int `json:"flip,omitempty"`
	// Seed seeds the random numbers the jitter draws: Policy gives the
	// policy, when it has a Jitter, a new math/rand/v2 PCG seeded with
	// (Seed, SeedStream) as its Rand, and the simulator draws from such a
	// source as the executor does (one number for each event that ends an
	// attempt, in order), so that backoff.Do under sc.Policy() and the
	// simulation pause alike. Without a jitter nothing is drawn.
	Seed uint64 `json:"seed,omitempty"`
}

// SeedStream is the second seed of the PCG a scenario's policy draws its
// jitter from: rand.NewPCG(Scenario.Seed, SeedStream). It spells
// "backoff!" in ASCII.
const SeedStream uint64 = 0x6261636b6f666621

// An Attempt scripts one attempt: it runs for Takes, then ends with its
// Outcome, unless its context is done first; then it reacts as OnCancel says.
type Attempt struct {
	Takes    Duration `json:"takes,omitempty"`
	Outcome  Kind     `json:"outcome"`
	OnCancel Reaction `json:"on_cancel,omitempty"`
	// Late is how long after its context is done the attempt returns,
	// with OnCancel "late".
	Late Duration `json:"late,omitempty"`
	// RetryAfter, if positive, is a delay hint the attempt's error carries
	// (backoff.RetryAfter), as a server's Retry-After header gives one: the
	// pause after it lasts at least that long. Only an error that is
	// retried carries one: the outcome is retryable or give-up. An attempt
	// that its cut or the caller's cancel ends returns no such error, so
	// its hint is not seen.
	RetryAfter Duration `json:"retry_after,omitempty"`
	// Rand, if set, is the random number the event that ends the attempt
	// carries (from which the jitter spreads the pause after it), instead
	// of the next number of the seed's stream: a call recorded on the
	// real clock drew it from elsewhere. Only with a jitter.
	Rand *uint64 `json:"rand,omitempty"`
	// PauseLate is how long after it is due the pause after the attempt
	// ends (if the call pauses): a real timer fires late, and a call
	// recorded on the real clock shows by how much. 0: on time.
	PauseLate Duration `json:"pause_late,omitempty"`
}

// A Kind is how an attempt ends, and so what the policy makes of it.
type Kind string

// The kinds of outcome.
const (
	OK           Kind = "ok"            // returns a value and no error
	Retryable    Kind = "retryable"     // returns ErrRetryable: RetryIf retries it
	NotRetryable Kind = "not-retryable" // returns ErrPermanent: RetryIf does not retry it
	GiveUp       Kind = "give-up"       // returns ErrGiveUp: retried, but GiveUp says stop
	Hang         Kind = "hang"          // never returns on its own
)

// A Reaction is what an attempt does when its context is done before it ends.
type Reaction string

// The reactions to cancellation.
const (
	AtOnce Reaction = "at-once" // returns ctx.Err() at once (the default)
	Late   Reaction = "late"    // returns ctx.Err() Attempt.Late after
	Ignore Reaction = "ignore"  // goes on as if nothing happened
)

// The errors a simulated operation returns, and the cause of a simulated
// cancel. An executor driven by the same scenario must return the same
// values for its trace to match the simulator's (see Scenario.Operation).
var (
	ErrRetryable = errors.New("sim: retryable error")
	ErrPermanent = errors.New("sim: permanent error")
	ErrGiveUp    = errors.New("sim: give-up error")
	ErrCanceled  = errors.New("sim: canceled by the caller")
)

// Err returns the error an attempt of kind k returns, nil for OK and Hang
// (an attempt with a RetryAfter returns it wrapped; see Attempt.Err).
func (k Kind) Err() error {
	switch k {
	case Retryable:
		return ErrRetryable
	case NotRetryable:
		return ErrPermanent
	case GiveUp:
		return ErrGiveUp
	}
	return nil
}

// Err returns the error the attempt returns when it ends by itself: its
// Outcome's error (see Kind.Err), carrying the delay hint RetryAfter if it
// has one.
func (a Attempt) Err() error {
	err := a.Outcome.Err()
	if a.RetryAfter > 0 && err != nil {
		return backoff.RetryAfter(err, a.RetryAfter.D())
	}
	return err
}

// A Duration is a time.Duration written in JSON as a Go duration string.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the duration as time.Duration writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(d.String())), nil
}

// UnmarshalJSON reads a duration string such as "150ms" or "1h2m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	v, err := decode.Duration(b)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ReadScenario decodes one scenario from JSON, refusing unknown fields,
// anything after the scenario, and anything Validate refuses.
func ReadScenario(r io.Reader) (Scenario, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Scenario{}, fmt.Errorf("sim: scenario: %w", err)
	}
	return ParseScenario(b)
}

// ParseScenario is ReadScenario on a byte slice.
func ParseScenario(b []byte) (Scenario, error) {
	var sc Scenario
	if err := decode.Strict(b, &sc, badDuration); err != nil {
		return Scenario{}, fmt.Errorf("sim: scenario: %w", err)
	}
	sc.canonical()
	return sc, sc.Validate()
}

// canonical makes a decoded scenario equal to the one its own JSON
// decodes to: an empty flip list is written as none, so it reads as none.
func (sc *Scenario) canonical() {
	if len(sc.Flip) == 0 {
		sc.Flip = nil
	}
}

// badDuration returns the name of the first duration field in the JSON
// object b (a scenario, or a trace header holding one) that does not
// parse, or "" if it finds none.
func badDuration(b []byte) string {
	type attempt struct {
		Takes, Late json.RawMessage
		RetryAfter  json.RawMessage `json:"retry_after"`
	}
	type scenario struct {
		AttemptTimeout json.RawMessage `json:"attempt_timeout"`
		Deadline       json.RawMessage `json:"deadline"`
		Pause          json.RawMessage `json:"pause"`
		MaxPause       json.RawMessage `json:"max_pause"`
		CancelAt       json.RawMessage `json:"cancel_at"`
		CallerDeadline json.RawMessage `json:"caller_deadline"`
		Attempts       []attempt       `json:"attempts"`
	}
	var v struct {
		scenario
		Scenario *scenario `json:"scenario"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	sc, prefix := &v.scenario, ""
	if v.Scenario != nil {
		sc, prefix = v.Scenario, "scenario."
	}
	fields := []decode.Field{{Name: "attempt_timeout", Raw: sc.AttemptTimeout}, {Name: "deadline", Raw: sc.Deadline},
		{Name: "pause", Raw: sc.Pause}, {Name: "max_pause", Raw: sc.MaxPause}, {Name: "cancel_at", Raw: sc.CancelAt},
		{Name: "caller_deadline", Raw: sc.CallerDeadline}}
	for i, a := range sc.Attempts {
		fields = append(fields, decode.Field{Name: fmt.Sprintf("attempts[%d].takes", i), Raw: a.Takes},
			decode.Field{Name: fmt.Sprintf("attempts[%d].late", i), Raw: a.Late},
			decode.Field{Name: fmt.Sprintf("attempts[%d].retry_after", i), Raw: a.RetryAfter})
	}
	if name := decode.FirstBadDuration(fields); name != "" {
		return prefix + name
	}
	return ""
}

// MaxDuration bounds every duration of a scenario, and every pause its
// policy can make (see Validate), so that no simulated time can overflow:
// MaxSteps steps of at most three such durations each stay far below the
// 292 years a time.Duration holds.
const MaxDuration = 24 * time.Hour

// jitter returns the kind of jitter sc names, and false for an unknown name.
func (sc *Scenario) jitter() (backoff.Jitter, bool) { return decode.Jitter(sc.Jitter) }

// Validate reports what is wrong with sc, naming the field and the value:
// a negative number or one over MaxDuration, an unknown kind, reaction or
// jitter, a growth that is not 0, 1 or a finite number above 1, a field
// that means nothing where it is set, an attempt that could never end, or
// pauses that could grow past MaxDuration.
func (sc Scenario) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sim: scenario: "+format, args...))
	}
	tooLong := func(name string, d Duration) {
		if d.D() > MaxDuration {
			bad("%s is %v; want at most %v", name, d, MaxDuration)
		}
	}
	tooLong("attempt_timeout", sc.AttemptTimeout)
	tooLong("deadline", sc.Deadline)
	tooLong("pause", sc.Pause)
	tooLong("max_pause", sc.MaxPause)
	if sc.CancelAt != nil {
		tooLong("cancel_at", *sc.CancelAt)
	}
	jitter, knownJitter := sc.jitter()
	var policyErr error // the policy's refusal, said again below in the scenario's words
	if err := sc.Policy().Validate(); err != nil {
		for _, field := range []struct {
			name string
			d    Duration
		}{{"attempt_timeout", sc.AttemptTimeout}, {"deadline", sc.Deadline}, {"pause", sc.Pause}} {
			if field.d < 0 {
				bad("%s is %v; want 0 (none) or more", field.name, field.d)
			}
		}
		if sc.MaxPause < 0 {
			bad("max_pause is %v; want 0 (no cap) or more", sc.MaxPause)
		}
		if g := sc.Growth; !(g == 0 || g >= 1 && !math.IsInf(g, 1)) {
			bad("growth is %v; want 0 or 1 (constant) or a finite number above 1", g)
		}
		if !knownJitter {
			bad("jitter is %q; want none, full, equal or decorrelated", sc.Jitter)
		}
		if sc.MaxTries < 0 {
			bad("max_tries is %d; want 0 (no limit) or more", sc.MaxTries)
		}
		if sc.Pause == 0 && sc.MaxTries == 0 && sc.Deadline == 0 && sc.BudgetAllows == nil && sc.retries() {
			bad("an attempt fails with an error to retry, and no pause, max_tries, deadline or budget_allows bounds the retries: " +
				"the call would retry at once, without end; set max_tries, pause or deadline")
		}
		policyErr = err
	}
	sc.validatePauses(bad, jitter)
	if sc.CancelAt != nil && *sc.CancelAt < 0 {
		bad("cancel_at is %v; want 0 or more", *sc.CancelAt)
	}
	tooLong("caller_deadline", sc.CallerDeadline)
	switch {
	case sc.CallerDeadline < 0:
		bad("caller_deadline is %v; want 0 (none) or more", sc.CallerDeadline)
	case sc.CallerDeadline > 0 && sc.CancelAt != nil && *sc.CancelAt == sc.CallerDeadline+sc.CallerLate:
		bad("cancel_at is %v, when the caller's deadline is seen (caller_deadline plus caller_late); the caller's context cannot end twice at one instant: move one", *sc.CancelAt)
	}
	tooLong("caller_late", sc.CallerLate)
	switch {
	case sc.CallerLate < 0:
		bad("caller_late is %v; want 0 (on time) or more", sc.CallerLate)
	case sc.CallerLate > 0 && sc.CallerDeadline <= 0:
		bad("caller_late is %v but there is no caller_deadline for it to be late after", sc.CallerLate)
	}
	if n := sc.BudgetAllows; n != nil && (*n < 0 || *n > maxBudget) {
		bad("budget_allows is %d; want 0 to %d retries", *n, maxBudget)
	}
	for i, f := range sc.Flip {
		if f < 0 || (i > 0 && f <= sc.Flip[i-1]) {
			bad("flip is %v; want tie numbers from 0, in increasing order", sc.Flip)
			break
		}
	}
	if len(sc.Attempts) == 0 {
		bad("attempts is empty; script at least one")
	}
	limited := sc.AttemptTimeout > 0 || sc.Deadline > 0 || sc.CancelAt != nil || sc.CallerDeadline > 0
	for i, a := range sc.Attempts {
		// The messages are formatted only for an attempt that is wrong:
		// Run validates every scenario, of thousands of attempts too.
		at := func(format string, args ...any) {
			bad("attempts[%d].%s", append([]any{i}, fmt.Sprintf(format, args...))...)
		}
		atMost := func(name string, d Duration) {
			if d.D() > MaxDuration {
				at("%s is %v; want at most %v", name, d, MaxDuration)
			}
		}
		switch a.Outcome {
		case OK, Retryable, NotRetryable, GiveUp:
		case Hang:
			if a.Takes != 0 {
				at("takes is %v but the outcome is hang, which never ends by itself", a.Takes)
			}
			if !limited {
				at("outcome is hang, but no attempt_timeout, deadline, cancel_at or caller_deadline would ever end it")
			}
			if a.OnCancel == Ignore && !sc.Abandon {
				at("outcome is hang and on_cancel is ignore: without abandon the call could never end")
			}
		case "":
			at("outcome is missing; want ok, retryable, not-retryable, give-up or hang")
		default:
			at("outcome is %q; want ok, retryable, not-retryable, give-up or hang", a.Outcome)
		}
		if a.Takes < 0 {
			at("takes is %v; want 0 or more", a.Takes)
		}
		atMost("takes", a.Takes)
		atMost("late", a.Late)
		switch a.OnCancel {
		case "", AtOnce, Ignore:
			if a.Late != 0 {
				at("late is %v but on_cancel is not \"late\"", a.Late)
			}
		case Late:
			if a.Late <= 0 {
				at("on_cancel is late but late is %v; want more than 0", a.Late)
			}
		default:
			at("on_cancel is %q; want at-once, late or ignore", a.OnCancel)
		}
		if a.RetryAfter < 0 {
			at("retry_after is %v; want 0 (no hint) or more", a.RetryAfter)
		}
		atMost("retry_after", a.RetryAfter)
		if a.RetryAfter != 0 && !a.hints() && a.Outcome != "" {
			at("retry_after is %v but the outcome is %s; only an error that is retried (retryable or give-up) carries a delay hint",
				a.RetryAfter, a.Outcome)
		}
		if a.Rand != nil && jitter == backoff.NoJitter && knownJitter {
			at("rand is %d but the jitter is none: no random number is drawn", *a.Rand)
		}
		if a.PauseLate < 0 {
			at("pause_late is %v; want 0 (on time) or more", a.PauseLate)
		}
		atMost("pause_late", a.PauseLate)
		if a.PauseLate != 0 && (a.Outcome == OK || a.Outcome == NotRetryable) {
			at("pause_late is %v but the outcome is %s, after which the call never pauses", a.PauseLate, a.Outcome)
		}
	}
	if policyErr != nil && len(errs) == 0 {
		bad("%v", policyErr) // a refusal not said above: say it in the policy's words
	}
	return errors.Join(errs...)
}

// maxBudget bounds Scenario.BudgetAllows: a budget holds at most this
// many tokens (backoff.Budget.Burst).
const maxBudget = 1 << 30

// hints reports whether the attempt's outcome is an error that can carry
// a delay hint: one that is retried.
func (a Attempt) hints() bool { return a.Outcome == Retryable || a.Outcome == GiveUp }

// retries reports whether an attempt of sc returns an error that RetryIf
// retries: only then does sc's policy have a RetryIf (see Policy).
func (sc Scenario) retries() bool {
	for _, a := range sc.Attempts {
		if a.hints() {
			return true
		}
	}
	return false
}

// validatePauses reports, through bad, the pause fields that mean nothing
// where they are set, and pauses that could grow past MaxDuration.
func (sc *Scenario) validatePauses(bad func(string, ...any), jitter backoff.Jitter) {
	hint := sc.longestHint()
	decorrelated := jitter == backoff.DecorrelatedJitter
	switch {
	case sc.Growth > 1 && decorrelated:
		bad("growth is %v but jitter is decorrelated, which grows the pauses by itself and does not use it", sc.Growth)
	case sc.Growth > 1 && sc.Pause == 0:
		bad("growth is %v but pause is 0s: there is no pause to grow", sc.Growth)
	}
	// With pause 0 every pause is 0, but one a hint asks for, and the
	// decorrelated ones after it.
	if sc.Pause == 0 && !(decorrelated && hint > 0) {
		if jitter != backoff.NoJitter {
			bad("jitter is %q but pause is 0s: there is no pause to spread", sc.Jitter)
		}
		if sc.MaxPause > 0 {
			bad("max_pause is %v but pause is 0s: there is no pause to cap (a delay hint is never capped)", sc.MaxPause)
		}
	}
	if !(sc.Growth > 1 || decorrelated) || sc.MaxPause > 0 || sc.Deadline > 0 {
		return // every pause is at most Pause, MaxPause, the deadline (rule 5) or a hint
	}
	what := fmt.Sprintf("growth is %v", sc.Growth)
	if decorrelated {
		what = "jitter is decorrelated"
	}
	if sc.MaxTries == 0 {
		bad("%s, and no max_pause, deadline or max_tries bounds the pauses it grows; set one of them", what)
	} else if d := sc.longestPause(hint, decorrelated); d > MaxDuration {
		bad("%s with pause %v and max_tries %d: the pauses could grow to %v; want at most %v (set max_pause or deadline)",
			what, sc.Pause, sc.MaxTries, d, MaxDuration)
	}
}

// longestHint returns the longest delay hint of the script (0 if none).
func (sc *Scenario) longestHint() time.Duration {
	var h time.Duration
	for _, a := range sc.Attempts {
		if a.hints() {
			h = max(h, a.RetryAfter.D())
		}
	}
	return h
}

// longestPause bounds the pauses of a policy that grows them, with no cap
// and no deadline, over its MaxTries-1 pauses: with decorrelated jitter,
// each at most 3 times the one before, the first at most Pause (or a hint
// as long as hint); with growth, the last, Pause × Growth^(MaxTries-2), or
// a hint. It saturates at math.MaxInt64.
func (sc *Scenario) longestPause(hint time.Duration, decorrelated bool) time.Duration {
	n := sc.MaxTries - 1 // the pauses
	if n < 1 {
		return 0
	}
	if decorrelated {
		var d time.Duration
		for range n {
			if d = max(sc.Pause.D(), hint, mul3(d)); d > MaxDuration {
				break
			}
		}
		return d
	}
	f := float64(sc.Pause) * math.Pow(sc.Growth, float64(n-1))
	if !(f < math.MaxInt64) {
		return max(math.MaxInt64, hint)
	}
	return max(time.Duration(f), hint)
}

// mul3 returns 3d for d >= 0, at most math.MaxInt64.
func mul3(d time.Duration) time.Duration {
	if d > math.MaxInt64/3 {
		return math.MaxInt64
	}
	return 3 * d
}

// Policy returns the policy sc describes: its numbers; if an attempt
// returns an error to retry (retryable or give-up), RetryIf true for
// ErrRetryable and ErrGiveUp and GiveUp true for ErrGiveUp (otherwise
// both nil, as a user would write it: no error is retried); and, if it
// has a jitter, a Rand of its own: a new PCG seeded with (Seed,
// SeedStream), which the simulator draws from in the same order as the
// executor. A Rand is used up as it is drawn from, and is not safe for
// concurrent use: call Policy anew for each call of backoff.Do.
func (sc Scenario) Policy() backoff.Policy {
	jitter, ok := sc.jitter()
	if !ok {
		jitter = math.MaxUint8 // no Jitter: the policy is invalid too
	}
	p := backoff.Policy{
		AttemptTimeout: sc.AttemptTimeout.D(),
		Deadline:       sc.Deadline.D(),
		Pause:          sc.Pause.D(),
		Growth:         sc.Growth,
		MaxPause:       sc.MaxPause.D(),
		Jitter:         jitter,
		MaxTries:       sc.MaxTries,
	}
	if sc.retries() {
		p.RetryIf, p.GiveUp = retryIf, giveUp
	}
	if jitter != backoff.NoJitter {
		p.Rand = rand.NewPCG(sc.Seed, SeedStream)
	}
	if sc.BudgetAllows != nil {
		p.Budget = budgetAllowing(*sc.BudgetAllows)
	}
	return p
}

// budgetAllowing returns a new Budget that allows n retries and refuses
// the next: n tokens, earning none. A Budget starts full, with at least
// one token, so for none a throwaway call spends its one token first.
func budgetAllowing(n int) *backoff.Budget {
	b := &backoff.Budget{Burst: max(n, 1)}
	if n == 0 {
		x, err := backoff.NewExecution(backoff.Policy{MaxTries: 2, RetryIf: retryIf, Budget: b})
		if err != nil {
			panic("sim: " + err.Error()) // cannot happen: the policy is valid
		}
		x.Step(backoff.Event{Kind: backoff.EventBegan})
		x.Step(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, Err: ErrRetryable}) // the retry spends it
	}
	return b
}

// How every scenario's policy classifies errors (see Policy), made once
// for all of them.
var (
	retryIf = backoff.On(ErrRetryable, ErrGiveUp)
	giveUp  = backoff.On(ErrGiveUp)
)

// callerEnd returns when the caller's context is done and with what
// cause: the earlier of CancelAt (ErrCanceled) and CallerDeadline, seen
// CallerLate after it (context.DeadlineExceeded); never and nil if
// neither is set.
func (sc *Scenario) callerEnd() (time.Duration, error) {
	at, cause := never, error(nil)
	if sc.CancelAt != nil {
		at, cause = sc.CancelAt.D(), ErrCanceled
	}
	if d := sc.CallerDeadline.D(); d > 0 && d+sc.CallerLate.D() < at {
		at, cause = d+sc.CallerLate.D(), context.DeadlineExceeded
	}
	return at, cause
}

// attempt returns the script of attempt k (from 1).
func (sc *Scenario) attempt(k int) Attempt {
	return sc.Attempts[min(k, len(sc.Attempts))-1]
}

// Operation returns an operation that acts out sc's script on the clock
// clk (nil: the system clock), for driving the executor with the same
// scenario as the simulator: attempt k waits for its Takes, then returns
// its Outcome's error (carrying its RetryAfter, see Attempt.Err); if its
// context is done first it reacts as scripted. A successful attempt
// returns its number. With Abandon, the operation is wrapped in
// backoff.Abandon.
//
// With Abandon, an abandoned attempt may still be waiting (for its late
// return, or forever if it hangs and ignores its context) when the call
// returns: call release then, and it returns at once, so that no goroutine
// is left behind. The operation is safe for the overlapping attempts that
// Abandon makes.
func (sc Scenario) Operation(clk backoff.Clock) (op func(context.Context) (int, error), release func()) {
	var mu sync.Mutex
	n := 0
	released := make(chan struct{})
	op = func(ctx context.Context) (int, error) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		a := sc.attempt(k)
		var fired <-chan time.Time
		if a.Outcome != Hang {
			t := newTimer(clk, a.Takes.D())
			defer t.Stop()
			fired = t.Chan()
		}
		select {
		case <-fired:
			return result(k, a)
		case <-ctx.Done():
		}
		switch a.OnCancel {
		case Ignore:
			select {
			case <-fired:
				return result(k, a)
			case <-released:
				return 0, ctx.Err()
			}
		case Late:
			t := newTimer(clk, a.Late.D())
			defer t.Stop()
			select {
			case <-t.Chan():
			case <-released:
			}
		}
		return 0, ctx.Err()
	}
	if sc.Abandon {
		op = backoff.Abandon(op)
	}
	return op, sync.OnceFunc(func() { close(released) })
}

// newTimer returns a timer of clk, or of the system clock if clk is nil.
func newTimer(clk backoff.Clock, d time.Duration) clockwork.Timer {
	if clk == nil {
		clk = clockwork.NewRealClock()
	}
	return clk.NewTimer(d)
}

// result is what attempt k, scripted as a, returns when it ends by itself.
func result(k int, a Attempt) (int, error) {
	if a.Outcome == OK {
		return k, nil
	}
	return 0, a.Err()
}
