package baseline

import (
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Monitor checks workloads with a profile for drift and, when LearnFor is
// set, learns the others: a workload without a profile is in the
// "learning" state until its profile gained no entry for LearnFor (and it
// has been seen that long); it is then checked like a loaded profile.
type Monitor struct {
	checker  *Checker
	learner  *Learner
	learnFor time.Duration
	promoted map[string]bool
}

// NewMonitor returns a monitor over loaded profiles.
func NewMonitor(ps []*Profile, learnFor time.Duration) *Monitor {
	m := &Monitor{checker: NewChecker(ps), learnFor: learnFor, promoted: map[string]bool{}}
	if learnFor > 0 {
		m.learner = NewLearner(LearnOptions{})
	}
	return m
}

// Checker returns the drift checker (to set Hash).
func (m *Monitor) Checker() *Checker { return m.checker }

// Observe checks (or learns) ev after st.Apply(ev).
func (m *Monitor) Observe(ev *event.Event, st *event.State, fn func(*Drift)) {
	p := st.Current()
	if m.learner != nil && p != nil && p.ContainerID != "" && p.ContainerID != "host" {
		if ct := st.Container(p.ContainerID); ct != nil {
			key := IdentityOf(ct).Key()
			if _, has := m.checker.byKey[key]; !has {
				lp := m.learner.byKey[key]
				if lp == nil || ev.TS-lp.lastNew < int64(m.learnFor) || ev.TS-lp.first < int64(m.learnFor) {
					m.learner.Observe(ev, st)
					return
				}
				m.promote(key, lp)
			}
		}
	}
	m.checker.Check(ev, st, fn)
}

func (m *Monitor) promote(key string, lp *learning) {
	p := lp.p
	p.Normalize()
	m.checker.add(&p)
	// Containers mapped to "no profile" are looked up again.
	for cid, cp := range m.checker.byCID {
		if cp == nil {
			delete(m.checker.byCID, cid)
		}
	}
	m.promoted[key] = true
	delete(m.learner.byKey, key)
	for cid, l := range m.learner.byCID {
		if l == lp {
			delete(m.learner.byCID, cid)
		}
	}
}

// State reports "learning", "enforcing" (loaded or promoted profile) or
// "unknown" for an identity key.
func (m *Monitor) State(key string) string {
	if _, ok := m.checker.byKey[key]; ok {
		return "enforcing"
	}
	if m.learner != nil && m.learner.byKey[key] != nil {
		return "learning"
	}
	return "unknown"
}
