package main

import (
	"strings"
	"testing"
)

func id(c byte) string { return strings.Repeat(string(c), 40) }

func threeByOne(t *testing.T) *Topology {
	var prims, reps []*Node
	for i, c := range []byte("abc") {
		prims = append(prims, &Node{ID: id(c), Addr: "127.0.0.1:700" + string('1'+byte(i))})
	}
	for i, c := range []byte("def") {
		reps = append(reps, &Node{ID: id(c), Addr: "127.0.0.1:710" + string('1'+byte(i))})
	}
	top, err := NewTopology(prims, reps)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestNewTopologyCoversEverySlotOnce(t *testing.T) {
	top := threeByOne(t)
	for s := 0; s < NumSlots; s++ {
		if top.Owner(s) == nil {
			t.Fatalf("slot %d unassigned", s)
		}
	}
	want := id('a') + " 127.0.0.1 7001 master - 0-5460\n"
	if !strings.HasPrefix(top.NodesText(), want) {
		t.Fatalf("NodesText: %q", top.NodesText())
	}
	if !strings.Contains(top.NodesText(), id('d')+" 127.0.0.1 7101 slave "+id('a')+"\n") {
		t.Fatalf("NodesText: %q", top.NodesText())
	}
}

func TestFailoverHandsSlotsToTheReplica(t *testing.T) {
	top := threeByOne(t)
	slots := top.Find(id('a')).Slots
	if err := top.Failover(id('d')); err != nil {
		t.Fatal(err)
	}
	d, a := top.Find(id('d')), top.Find(id('a'))
	if !d.IsPrimary() || len(d.Slots) != len(slots) || d.Slots[0] != slots[0] {
		t.Fatalf("new primary: %+v", d)
	}
	if a.Primary != id('d') || len(a.Slots) != 0 {
		t.Fatalf("old primary: %+v", a)
	}
}

func TestMoveSlotSplitsRanges(t *testing.T) {
	top := threeByOne(t)
	if err := top.MoveSlot(100, id('b')); err != nil {
		t.Fatal(err)
	}
	a := top.Find(id('a'))
	if len(a.Slots) != 2 || a.Slots[0] != [2]int{0, 99} || a.Slots[1] != [2]int{101, 5460} {
		t.Fatalf("source ranges: %v", a.Slots)
	}
	if top.Owner(100).ID != id('b') {
		t.Fatal("slot 100 not moved")
	}
	if err := top.MoveSlot(100, id('d')); err == nil {
		t.Fatal("a replica took a slot")
	}
	if err := top.RemoveNode(id('a')); err == nil {
		t.Fatal("removed a node with slots")
	}
}
