// The desired topology of an FDB cluster: which nodes there are, which primary owns which of the
// 16,384 slots, and which replica follows which primary. It lives in etcd as one JSON value
// (store.go); every change makes a new Version, which is what the nodes compare when the
// controller pushes it (CLUSTERX SETNODES <nodes> <version>: older versions are refused).
package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// NumSlots is Redis Cluster's slot count.
const NumSlots = 16384

// Node is one fdb-server of the cluster.
type Node struct {
	ID      string   `json:"id"` // 40 characters, the node's CLUSTER MYID
	Addr    string   `json:"addr"`
	Primary string   `json:"primary,omitempty"` // a replica's primary; empty for a primary
	Slots   [][2]int `json:"slots,omitempty"`   // a primary's slot ranges, inclusive
}

// IsPrimary tells a primary from a replica.
func (n *Node) IsPrimary() bool { return n.Primary == "" }

// Migration is a slot on the move (phase 3 of docs/cluster.md): recorded before the keys move so
// that a controller that takes over finishes or rolls it back.
type Migration struct {
	Slots  []int  `json:"slots"`
	Source string `json:"source"`
	Target string `json:"target"`
}

// Topology is the desired state of the cluster.
type Topology struct {
	Version   int64      `json:"version"`
	Nodes     []*Node    `json:"nodes"`
	Migrating *Migration `json:"migrating,omitempty"`
}

// Find returns the node with this id, or nil.
func (t *Topology) Find(id string) *Node {
	for _, n := range t.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Primaries returns the primaries in the topology's order.
func (t *Topology) Primaries() []*Node {
	var out []*Node
	for _, n := range t.Nodes {
		if n.IsPrimary() {
			out = append(out, n)
		}
	}
	return out
}

// Replicas returns the replicas of primary id.
func (t *Topology) Replicas(id string) []*Node {
	var out []*Node
	for _, n := range t.Nodes {
		if n.Primary == id {
			out = append(out, n)
		}
	}
	return out
}

// NodesText is CLUSTERX SETNODES's first argument: one line per node,
// "<id> <ip> <port> master|slave <primary-id>|- [<slot ranges>]".
func (t *Topology) NodesText() string {
	var b strings.Builder
	for _, n := range t.Nodes {
		host, port := splitAddr(n.Addr)
		if n.IsPrimary() {
			fmt.Fprintf(&b, "%s %s %s master -", n.ID, host, port)
			for _, r := range n.Slots {
				if r[0] == r[1] {
					fmt.Fprintf(&b, " %d", r[0])
				} else {
					fmt.Fprintf(&b, " %d-%d", r[0], r[1])
				}
			}
		} else {
			fmt.Fprintf(&b, "%s %s %s slave %s", n.ID, host, port, n.Primary)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func splitAddr(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return addr, "0"
	}
	return addr[:i], addr[i+1:]
}

// Validate checks what the nodes would refuse: ids, one owner per slot, replicas of primaries.
func (t *Topology) Validate() error {
	owner := make([]string, NumSlots)
	seen := map[string]bool{}
	for _, n := range t.Nodes {
		if len(n.ID) != 40 {
			return fmt.Errorf("node id %q is not 40 characters", n.ID)
		}
		if seen[n.ID] {
			return fmt.Errorf("node %s twice", n.ID)
		}
		seen[n.ID] = true
		if !n.IsPrimary() {
			if p := t.Find(n.Primary); p == nil || !p.IsPrimary() {
				return fmt.Errorf("replica %s follows %s, which is no primary", n.ID, n.Primary)
			}
			if len(n.Slots) > 0 {
				return fmt.Errorf("replica %s has slots", n.ID)
			}
		}
		for _, r := range n.Slots {
			if r[0] < 0 || r[1] >= NumSlots || r[0] > r[1] {
				return fmt.Errorf("bad slot range %d-%d", r[0], r[1])
			}
			for s := r[0]; s <= r[1]; s++ {
				if owner[s] != "" {
					return fmt.Errorf("slot %d owned by %s and %s", s, owner[s], n.ID)
				}
				owner[s] = n.ID
			}
		}
	}
	return nil
}

// Owner returns the primary that owns slot, or nil.
func (t *Topology) Owner(slot int) *Node {
	for _, n := range t.Primaries() {
		for _, r := range n.Slots {
			if r[0] <= slot && slot <= r[1] {
				return n
			}
		}
	}
	return nil
}

// slotsOf expands ranges; rangesOf merges slots back into ranges.
func slotsOf(ranges [][2]int) []int {
	var out []int
	for _, r := range ranges {
		for s := r[0]; s <= r[1]; s++ {
			out = append(out, s)
		}
	}
	return out
}

func rangesOf(slots []int) [][2]int {
	sort.Ints(slots)
	var out [][2]int
	for _, s := range slots {
		if len(out) > 0 && out[len(out)-1][1] == s-1 {
			out[len(out)-1][1] = s
		} else if len(out) == 0 || out[len(out)-1][1] != s {
			out = append(out, [2]int{s, s})
		}
	}
	return out
}

// NewTopology spreads the slots evenly over `primaries` (contiguous ranges, as redis-cli
// --cluster create) and makes each of `replicas` follow a primary in turn.
func NewTopology(primaries, replicas []*Node) (*Topology, error) {
	if len(primaries) == 0 {
		return nil, errors.New("a cluster needs at least one primary")
	}
	t := &Topology{Version: 1}
	per := NumSlots / len(primaries)
	for i, p := range primaries {
		first := i * per
		last := first + per - 1
		if i == len(primaries)-1 {
			last = NumSlots - 1
		}
		p.Primary = ""
		p.Slots = [][2]int{{first, last}}
		t.Nodes = append(t.Nodes, p)
	}
	for i, r := range replicas {
		r.Slots = nil
		r.Primary = primaries[i%len(primaries)].ID
		t.Nodes = append(t.Nodes, r)
	}
	return t, t.Validate()
}

// AddNode adds a node: a primary without slots when primary is empty, else a replica of it.
func (t *Topology) AddNode(n *Node) error {
	if t.Find(n.ID) != nil {
		return fmt.Errorf("node %s is already in the cluster", n.ID)
	}
	n.Slots = nil
	t.Nodes = append(t.Nodes, n)
	return t.Validate()
}

// RemoveNode removes a node that serves no slot; its replicas, if any, must go first.
func (t *Topology) RemoveNode(id string) error {
	n := t.Find(id)
	if n == nil {
		return fmt.Errorf("no node %s", id)
	}
	if len(n.Slots) > 0 {
		return fmt.Errorf("node %s still owns slots: move them first", id)
	}
	if len(t.Replicas(id)) > 0 {
		return fmt.Errorf("node %s still has replicas", id)
	}
	for i, m := range t.Nodes {
		if m.ID == id {
			t.Nodes = append(t.Nodes[:i], t.Nodes[i+1:]...)
			break
		}
	}
	return nil
}

// MoveSlot gives slot to primary id.
func (t *Topology) MoveSlot(slot int, id string) error {
	if slot < 0 || slot >= NumSlots {
		return fmt.Errorf("slot %d out of range", slot)
	}
	to := t.Find(id)
	if to == nil || !to.IsPrimary() {
		return fmt.Errorf("no primary %s", id)
	}
	if from := t.Owner(slot); from != nil {
		var keep []int
		for _, s := range slotsOf(from.Slots) {
			if s != slot {
				keep = append(keep, s)
			}
		}
		from.Slots = rangesOf(keep)
	}
	to.Slots = rangesOf(append(slotsOf(to.Slots), slot))
	return t.Validate()
}

// Failover makes replica id the primary of its primary's slots; the old primary and its other
// replicas follow it (the old primary resynchronizes from it when it comes back).
func (t *Topology) Failover(id string) error {
	r := t.Find(id)
	if r == nil || r.IsPrimary() {
		return fmt.Errorf("%s is not a replica", id)
	}
	old := t.Find(r.Primary)
	for _, n := range t.Nodes {
		if n.Primary == old.ID && n != r {
			n.Primary = r.ID
		}
	}
	r.Primary = ""
	r.Slots = old.Slots
	old.Slots = nil
	old.Primary = r.ID
	return t.Validate()
}
