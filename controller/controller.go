package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Controller keeps the nodes in line with the topology in etcd. Several may run: each campaigns
// in etcd's election under <prefix>/election, and only the leader pushes topologies, probes and
// fails over; the others wait as candidates and serve the HTTP API (whose changes go to etcd,
// which the leader then applies). A leader whose etcd session lapses (it lost etcd, or paused
// past the TTL) stops acting: another is leader by then. A topology it still pushed late is an
// older version, which the nodes refuse.
type Controller struct {
	ID            string
	Store         *Store
	Nodes         *Nodes
	ProbeInterval time.Duration
	FailAfter     int           // consecutive failed probes before a primary is failed over
	SessionTTL    int           // seconds
	CatchUp       time.Duration // manual failover: how long the replica may take to catch up

	failures  map[string]int
	migrating atomic.Bool // a migration runs in the background (migrate.go)
}

// Run campaigns for leadership and acts while leader, until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		sess, err := concurrency.NewSession(c.Store.cli, concurrency.WithTTL(c.SessionTTL))
		if err != nil {
			log.Printf("etcd session: %v", err)
			sleep(ctx, time.Second)
			continue
		}
		el := concurrency.NewElection(sess, c.Store.prefix+"/election")
		if err := el.Campaign(ctx, c.ID); err != nil {
			sess.Close()
			if ctx.Err() != nil {
				return nil
			}
			log.Printf("campaign: %v", err)
			continue
		}
		log.Printf("controller %s is the leader", c.ID)
		c.lead(ctx, sess)
		log.Printf("controller %s is no longer the leader", c.ID)
		resignCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = el.Resign(resignCtx)
		cancel()
		sess.Close()
	}
	return nil
}

func (c *Controller) lead(ctx context.Context, sess *concurrency.Session) {
	c.failures = map[string]int{}
	tick := time.NewTicker(c.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sess.Done():
			return
		case <-tick.C:
		}
		if err := c.Reconcile(ctx); err != nil && !errors.Is(err, ErrNoTopology) {
			log.Printf("reconcile: %v", err)
		}
	}
}

// Reconcile is one round of the leader: push the topology where it is missing, count failed
// probes of primaries, and fail over a primary that failed FailAfter probes in a row.
func (c *Controller) Reconcile(ctx context.Context) error {
	t, _, err := c.Store.Load(ctx)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		if err := c.Nodes.Push(ctx, n, t); err != nil {
			c.failures[n.ID]++
			if c.failures[n.ID] == 1 || c.failures[n.ID] == c.FailAfter {
				log.Printf("node %s (%s): %v", n.ID, n.Addr, err)
			}
			continue
		}
		c.failures[n.ID] = 0
	}
	if t.Migrating != nil && c.migrating.CompareAndSwap(false, true) {
		go func() {
			defer c.migrating.Store(false)
			if err := c.migrate(ctx, t); err != nil {
				log.Printf("migration of slots %v: %v (retried next round)", t.Migrating.Slots, err)
			}
		}()
	}
	for _, p := range t.Primaries() {
		if c.failures[p.ID] >= c.FailAfter && len(p.Slots) > 0 {
			log.Printf("primary %s (%s) failed %d probes: failing over", p.ID, p.Addr,
				c.failures[p.ID])
			nt, err := c.Failover(ctx, p.ID, false)
			if err != nil {
				log.Printf("failover of %s: %v", p.ID, err)
				continue
			}
			c.failures[p.ID] = 0
			c.pushAll(ctx, nt)
			return nil
		}
	}
	return nil
}

func (c *Controller) pushAll(ctx context.Context, t *Topology) {
	for _, n := range t.Nodes {
		if err := c.Nodes.Push(ctx, n, t); err != nil {
			log.Printf("push to %s: %v", n.Addr, err)
		}
	}
}

// Failover replaces primary id by its most up-to-date reachable replica (the highest
// replication offset: a write confirmed by WAIT reached it). A manual failover (`manual`, the
// primary is alive) first pauses writes on the primary and waits until the replica has all of
// them, so nothing acknowledged is lost; the pause ends when the primary becomes a replica.
func (c *Controller) Failover(ctx context.Context, id string, manual bool) (*Topology, error) {
	t, _, err := c.Store.Load(ctx)
	if err != nil {
		return nil, err
	}
	p := t.Find(id)
	if p == nil {
		return nil, fmt.Errorf("no node %s", id)
	}
	if !p.IsPrimary() {
		// A replica named: fail over its primary to it.
		return c.failoverTo(ctx, t, t.Find(p.Primary), p, manual)
	}
	var best *Node
	var bestOff int64 = -1
	for _, r := range t.Replicas(p.ID) {
		off, err := c.Nodes.ReplOffset(ctx, r.Addr)
		if err != nil {
			continue
		}
		if off > bestOff {
			best, bestOff = r, off
		}
	}
	if best == nil {
		return nil, fmt.Errorf("primary %s has no reachable replica", id)
	}
	return c.failoverTo(ctx, t, p, best, manual)
}

func (c *Controller) failoverTo(ctx context.Context, t *Topology, p, r *Node,
	manual bool) (*Topology, error) {
	if manual {
		pauseMs := c.CatchUp.Milliseconds() + 5000
		if _, err := c.Nodes.Do(ctx, p.Addr, "CLIENT", "PAUSE", pauseMs, "WRITE"); err != nil {
			// A primary that does not answer cannot take writes to lose either: the replica
			// with the highest offset takes over as in an automatic failover.
			log.Printf("manual failover: %s does not answer (%v): failing over without a pause",
				p.Addr, err)
			manual = false
		}
	}
	if manual {
		target, err := c.Nodes.ReplOffset(ctx, p.Addr)
		if err != nil {
			return nil, err
		}
		deadline := time.Now().Add(c.CatchUp)
		for {
			off, err := c.Nodes.ReplOffset(ctx, r.Addr)
			if err == nil && off >= target {
				break
			}
			if time.Now().After(deadline) {
				_, _ = c.Nodes.Do(ctx, p.Addr, "CLIENT", "UNPAUSE")
				return nil, fmt.Errorf("replica %s did not catch up with %s", r.ID, p.ID)
			}
			sleep(ctx, 10*time.Millisecond)
		}
	}
	nt, err := c.Store.Update(ctx, func(t *Topology) error {
		if t.Find(r.ID) == nil || t.Find(r.ID).Primary != p.ID {
			return errors.New("the topology changed meanwhile")
		}
		return t.Failover(r.ID)
	})
	if err != nil {
		return nil, err
	}
	log.Printf("failover: %s (%s) is the primary of %s's slots, version %d", r.ID, r.Addr, p.ID,
		nt.Version)
	// The new primary first, so that it takes writes before the others redirect to it.
	if err := c.Nodes.Push(ctx, nt.Find(r.ID), nt); err != nil {
		log.Printf("push to %s: %v", r.Addr, err)
	}
	if manual {
		c.pushAll(ctx, nt)
		_, _ = c.Nodes.Do(ctx, p.Addr, "CLIENT", "UNPAUSE")
	}
	return nt, nil
}

// Create makes the first topology from node addresses: the first len/(replicas+1) are
// primaries, the rest replicas (as redis-cli --cluster create --cluster-replicas). Each node
// keeps the id it reports (CLUSTERX MYID).
func (c *Controller) Create(ctx context.Context, addrs []string, replicas int) (*Topology, error) {
	nprim := len(addrs) / (replicas + 1)
	if nprim == 0 {
		return nil, errors.New("not enough nodes")
	}
	var prims, reps []*Node
	for i, a := range addrs {
		id, err := c.Nodes.MyID(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		n := &Node{ID: id, Addr: a}
		if i < nprim {
			prims = append(prims, n)
		} else {
			reps = append(reps, n)
		}
	}
	t, err := NewTopology(prims, reps)
	if err != nil {
		return nil, err
	}
	if err := c.Store.Create(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// AddNode adds the node at addr as a primary without slots, or a replica of `primary`.
func (c *Controller) AddNode(ctx context.Context, addr, primary string) (*Topology, error) {
	id, err := c.Nodes.MyID(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return c.Store.Update(ctx, func(t *Topology) error {
		return t.AddNode(&Node{ID: id, Addr: addr, Primary: primary})
	})
}

func (c *Controller) RemoveNode(ctx context.Context, id string) (*Topology, error) {
	return c.Store.Update(ctx, func(t *Topology) error { return t.RemoveNode(id) })
}

// Leader names the acting controller.
func (c *Controller) Leader(ctx context.Context) (string, error) {
	resp, err := c.Store.cli.Get(ctx, c.Store.prefix+"/election", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// Describe is a short text view of a topology (the CLI's `show`).
func Describe(t *Topology) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version %d\n", t.Version)
	nodes := append([]*Node(nil), t.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].IsPrimary() && !nodes[j].IsPrimary() })
	for _, n := range nodes {
		if n.IsPrimary() {
			fmt.Fprintf(&b, "%s %s primary slots %v\n", n.ID, n.Addr, n.Slots)
		} else {
			fmt.Fprintf(&b, "%s %s replica of %s\n", n.ID, n.Addr, n.Primary)
		}
	}
	return b.String()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
