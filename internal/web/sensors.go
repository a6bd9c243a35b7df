package web

import (
	"net/http"
	"sort"
	"time"
)

// DefaultStaleAfter is how long after its last heartbeat a sensor is
// marked stale: four of the uplink's default 30 s heartbeat intervals.
const DefaultStaleAfter = 2 * time.Minute

// sensorRow is one sensor with its health.
type sensorRow struct {
	Node
	// Stale: no heartbeat for longer than Options.StaleAfter.
	Stale bool
	// Lossy: the sensor reported dropped events.
	Lossy bool
}

type sensorData struct {
	Rows       []sensorRow
	Total      int
	Stale      int
	Lossy      int
	StaleAfter time.Duration
	// Shown is the overview's part of Rows (stale and lossy first).
	Shown []sensorRow
}

// overviewSensors bounds the sensors listed on the overview.
const overviewSensors = 10

// sensors reads every sensor's last heartbeat and marks the stale ones;
// stale sensors come first, then those that dropped events, then by node.
func (h *Handler) sensors(r *http.Request) (sensorData, error) {
	nodes, err := h.st.Nodes(r.Context())
	if err != nil {
		return sensorData{}, err
	}
	now := time.Now()
	d := sensorData{Total: len(nodes), StaleAfter: h.opts.StaleAfter}
	for _, n := range nodes {
		row := sensorRow{Node: n, Stale: now.Sub(n.LastHeartbeat) > h.opts.StaleAfter, Lossy: n.Drops > 0}
		if row.Stale {
			d.Stale++
		}
		if row.Lossy {
			d.Lossy++
		}
		d.Rows = append(d.Rows, row)
	}
	rank := func(s sensorRow) int {
		switch {
		case s.Stale:
			return 0
		case s.Lossy:
			return 1
		}
		return 2
	}
	sort.SliceStable(d.Rows, func(i, j int) bool { return rank(d.Rows[i]) < rank(d.Rows[j]) })
	d.Shown = d.Rows[:min(len(d.Rows), overviewSensors)]
	return d, nil
}

func (h *Handler) sensorsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := h.sensors(r)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "sensors.html", s, "Sensors", "sensors", d)
	return nil
}
