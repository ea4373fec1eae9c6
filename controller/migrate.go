package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"time"
)

// Online slot migration. A move is first recorded in etcd (Topology.Migrating) and only then
// carried out by the leader, so a controller that takes over finds it and finishes it:
//
//  1. the target marks the slots importing, the source migrating (CLUSTERX IMPORTING /
//     MIGRATING): from then on the source serves the keys it still has and sends clients to
//     the target (ASK) for the others, so a key is written on exactly one side;
//  2. the source moves the keys, a batch at a time, with MIGRATE ... REPLACE KEYS: each batch
//     is atomic on the source (its shard stays locked until the target has the keys and they
//     are deleted), and TTLs travel with the values (RESTORE's ttl);
//  3. a new topology version gives the slots to the target and ends the move; it is pushed to
//     the target first, so that clients sent there by the source are served.
//
// Every step can run again: marks are idempotent, a key the source still has is still the
// truth (REPLACE overwrites a copy a crashed batch left on the target), and step 3 is a
// transaction that checks the move is still the one recorded. So a crash of the source, the
// target or the controller at any point resumes on the next round of the leader, with nothing
// lost or duplicated.

const migrateBatch = 100

// MoveSlots records the move of `slots` to primary id, and waits until the leader carried it
// out (or ctx ends).
func (c *Controller) MoveSlots(ctx context.Context, slots []int, id string) (*Topology, error) {
	t, err := c.Store.Update(ctx, func(t *Topology) error {
		if t.Migrating != nil {
			return fmt.Errorf("slots %v are being moved already", t.Migrating.Slots)
		}
		to := t.Find(id)
		if to == nil || !to.IsPrimary() {
			return fmt.Errorf("no primary %s", id)
		}
		var source *Node
		var moving []int
		for _, s := range slots {
			from := t.Owner(s)
			switch {
			case s < 0 || s >= NumSlots:
				return fmt.Errorf("slot %d out of range", s)
			case from == nil:
				if err := t.MoveSlot(s, id); err != nil { // unassigned: nothing to move
					return err
				}
			case from.ID == id:
			case source != nil && source != from:
				return errors.New("one move takes slots of one source")
			default:
				source = from
				moving = append(moving, s)
			}
		}
		if len(moving) > 0 {
			t.Migrating = &Migration{Slots: moving, Source: source.ID, Target: id}
		}
		return nil
	})
	if err != nil || t.Migrating == nil {
		return t, err
	}
	for {
		sleep(ctx, 50*time.Millisecond)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cur, _, err := c.Store.Load(ctx)
		if err != nil {
			return nil, err
		}
		if cur.Migrating == nil {
			for _, s := range slots {
				if o := cur.Owner(s); o == nil || o.ID != id {
					return cur, fmt.Errorf("slot %d did not move (the topology changed meanwhile)", s)
				}
			}
			return cur, nil
		}
	}
}

// MoveSlot moves one slot (the CLI's and the API's move-slot).
func (c *Controller) MoveSlot(ctx context.Context, slot int, id string) (*Topology, error) {
	return c.MoveSlots(ctx, []int{slot}, id)
}

// Rebalance moves slots until every primary has its share (within one slot), `batch` slots per
// move, from the primaries with the most to those with the fewest.
func (c *Controller) Rebalance(ctx context.Context, batch int) (*Topology, error) {
	for {
		t, _, err := c.Store.Load(ctx)
		if err != nil {
			return nil, err
		}
		prims := t.Primaries()
		if len(prims) == 0 {
			return t, nil
		}
		count := func(n *Node) int { return len(slotsOf(n.Slots)) }
		sort.SliceStable(prims, func(i, j int) bool { return count(prims[i]) > count(prims[j]) })
		most, least := prims[0], prims[len(prims)-1]
		share := NumSlots / len(prims)
		give := min(count(most)-share, share-count(least), batch)
		if count(most)-count(least) <= 1 || give <= 0 {
			return t, nil
		}
		all := slotsOf(most.Slots)
		if _, err := c.MoveSlots(ctx, all[len(all)-give:], least.ID); err != nil {
			return nil, err
		}
	}
}

// migrate carries out t.Migrating (the leader, in the background).
func (c *Controller) migrate(ctx context.Context, t *Topology) error {
	m := t.Migrating
	src, dst := t.Find(m.Source), t.Find(m.Target)
	if src == nil || dst == nil || !dst.IsPrimary() {
		return c.abandon(ctx, m, "a node of the move left the topology or is no primary")
	}
	for _, s := range m.Slots {
		if o := t.Owner(s); o == nil || o.ID != src.ID {
			return c.abandon(ctx, m, fmt.Sprintf("slot %d is no longer the source's (a failover?)", s))
		}
	}
	start := time.Now()
	for _, s := range m.Slots {
		if _, err := c.Nodes.Do(ctx, dst.Addr, "CLUSTERX", "IMPORTING", s, src.ID); err != nil {
			return fmt.Errorf("importing on %s: %w", dst.Addr, err)
		}
		if _, err := c.Nodes.Do(ctx, src.Addr, "CLUSTERX", "MIGRATING", s, dst.ID); err != nil {
			if err.Error() == fmt.Sprintf("ERR I'm not the owner of hash slot %d", s) {
				return c.abandon(ctx, m, err.Error())
			}
			return fmt.Errorf("migrating on %s: %w", src.Addr, err)
		}
	}
	host, port := splitAddr(dst.Addr)
	keys := 0
	for _, s := range m.Slots {
		for {
			v, err := c.Nodes.Do(ctx, src.Addr, "CLUSTER", "GETKEYSINSLOT", s, migrateBatch)
			if err != nil {
				return err
			}
			batch, _ := v.([]interface{})
			if len(batch) == 0 {
				break
			}
			args := []interface{}{"MIGRATE", host, port, "", 0, 5000, "REPLACE"}
			args = append(args, c.Nodes.MigrateAuth()...)
			args = append(args, "KEYS")
			args = append(args, batch...)
			if _, err := c.Nodes.DoWithin(ctx, 10*time.Second, src.Addr, args...); err != nil {
				return fmt.Errorf("MIGRATE from %s: %w", src.Addr, err)
			}
			keys += len(batch)
		}
	}
	nt, err := c.Store.Update(ctx, func(t *Topology) error {
		if t.Migrating == nil || t.Migrating.Source != m.Source || t.Migrating.Target != m.Target {
			return errors.New("the move was changed meanwhile")
		}
		for _, s := range m.Slots {
			if err := t.MoveSlot(s, m.Target); err != nil {
				return err
			}
		}
		t.Migrating = nil
		return nil
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	log.Printf("moved %d slots (%d keys) from %s to %s in %v (%v per slot), version %d",
		len(m.Slots), keys, src.ID, dst.ID, elapsed, elapsed/time.Duration(len(m.Slots)),
		nt.Version)
	if err := c.Nodes.Push(ctx, nt.Find(dst.ID), nt); err != nil {
		log.Printf("push to %s: %v", dst.Addr, err)
	}
	c.pushAll(ctx, nt)
	return nil
}

// abandon ends a move that can no longer be done (the source lost the slots to a failover):
// the marks are cleared and the keys stay where they are.
func (c *Controller) abandon(ctx context.Context, m *Migration, why string) error {
	log.Printf("abandoning the move of slots %v: %s", m.Slots, why)
	_, err := c.Store.Update(ctx, func(t *Topology) error {
		t.Migrating = nil
		return nil
	})
	return err
}
