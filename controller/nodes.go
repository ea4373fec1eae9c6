package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Nodes talks to the fdb-server nodes: one small connection pool per address, short timeouts
// (a probe that hangs must count as a failure, not stall the controller).
type Nodes struct {
	mu      sync.Mutex
	clients map[string]*redis.Client
	timeout time.Duration
	auth    NodeAuth
}

// NodeAuth is how the controller, and the MIGRATE calls it makes nodes run against each
// other, log in to nodes: an ACL user (the default user when User is empty) with Password.
// The nodes' own replication links log in with their masteruser / masterauth.
type NodeAuth struct {
	User, Password string
}

func NewNodes(timeout time.Duration, auth NodeAuth) *Nodes {
	return &Nodes{clients: map[string]*redis.Client{}, timeout: timeout, auth: auth}
}

// MigrateAuth is what a node's MIGRATE to another node adds to log in there (Redis's AUTH /
// AUTH2 options): nothing without a password.
func (ns *Nodes) MigrateAuth() []interface{} {
	switch {
	case ns.auth.Password == "":
		return nil
	case ns.auth.User == "":
		return []interface{}{"AUTH", ns.auth.Password}
	default:
		return []interface{}{"AUTH2", ns.auth.User, ns.auth.Password}
	}
}

func (ns *Nodes) client(addr string) *redis.Client {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	c, ok := ns.clients[addr]
	if !ok {
		c = redis.NewClient(&redis.Options{
			// Each call's context bounds it (a probe: ns.timeout; MIGRATE: longer).
			Addr: addr, PoolSize: 2, MaxRetries: -1, DialTimeout: ns.timeout,
			ReadTimeout: time.Minute, WriteTimeout: time.Minute, ContextTimeoutEnabled: true,
			Protocol: 2, Username: ns.auth.User, Password: ns.auth.Password,
		})
		ns.clients[addr] = c
	}
	return c
}

// Do runs one command on the node at addr, within the node timeout.
func (ns *Nodes) Do(ctx context.Context, addr string, args ...interface{}) (interface{}, error) {
	return ns.DoWithin(ctx, ns.timeout, addr, args...)
}

// DoWithin runs one command on the node at addr, within d.
func (ns *Nodes) DoWithin(ctx context.Context, d time.Duration, addr string,
	args ...interface{}) (interface{}, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return ns.client(addr).Do(ctx, args...).Result()
}

// MyID is the node's own id (CLUSTERX MYID).
func (ns *Nodes) MyID(ctx context.Context, addr string) (string, error) {
	v, err := ns.Do(ctx, addr, "CLUSTERX", "MYID")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// Push gives the node its id and the topology, unless it has that version already. A node
// ahead of etcd (it was given a topology that etcd no longer has, e.g. after an etcd restore)
// is forced back: etcd is the truth.
func (ns *Nodes) Push(ctx context.Context, n *Node, t *Topology) error {
	v, err := ns.Do(ctx, n.Addr, "CLUSTERX", "VERSION")
	if err != nil {
		return err
	}
	id, err := ns.MyID(ctx, n.Addr)
	if err != nil {
		return err
	}
	have, _ := v.(int64)
	if have == t.Version && id == n.ID {
		return nil
	}
	if id != n.ID {
		if _, err := ns.Do(ctx, n.Addr, "CLUSTERX", "SETNODEID", n.ID); err != nil {
			return err
		}
	}
	args := []interface{}{"CLUSTERX", "SETNODES", t.NodesText(), t.Version}
	if have > t.Version || (have == t.Version && id != n.ID) {
		args = append(args, "FORCE")
	}
	_, err = ns.Do(ctx, n.Addr, args...)
	return err
}

// Info returns the fields of INFO <section>.
func (ns *Nodes) Info(ctx context.Context, addr, section string) (map[string]string, error) {
	v, err := ns.Do(ctx, addr, "INFO", section)
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok {
			out[k] = val
		}
	}
	return out, nil
}

// ReplOffset is how far the node is in its replication stream: a replica's slave_repl_offset,
// a primary's master_repl_offset.
func (ns *Nodes) ReplOffset(ctx context.Context, addr string) (int64, error) {
	info, err := ns.Info(ctx, addr, "replication")
	if err != nil {
		return 0, err
	}
	key := "master_repl_offset"
	if info["role"] == "slave" {
		key = "slave_repl_offset"
	}
	off, err := strconv.ParseInt(info[key], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: no %s in INFO replication", addr, key)
	}
	return off, nil
}
