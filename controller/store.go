package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Store keeps the topology in etcd under <prefix>/topology. Every change is a transaction that
// compares the key's ModRevision with the one it read, so two writers (two controllers, a CLI
// and a controller) never overwrite each other's change: the loser reads again and retries.
type Store struct {
	cli    *clientv3.Client
	prefix string
}

func (s *Store) key() string { return s.prefix + "/topology" }

// ErrNoTopology: the cluster was not created yet.
var ErrNoTopology = errors.New("no topology in etcd: create the cluster first")

// Load returns the topology and its etcd revision.
func (s *Store) Load(ctx context.Context) (*Topology, int64, error) {
	resp, err := s.cli.Get(ctx, s.key())
	if err != nil {
		return nil, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, ErrNoTopology
	}
	var t Topology
	if err := json.Unmarshal(resp.Kvs[0].Value, &t); err != nil {
		return nil, 0, fmt.Errorf("topology in etcd: %w", err)
	}
	return &t, resp.Kvs[0].ModRevision, nil
}

// Create stores the first topology; it fails when one exists.
func (s *Store) Create(ctx context.Context, t *Topology) error {
	b, _ := json.Marshal(t)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.key()), "=", 0)).
		Then(clientv3.OpPut(s.key(), string(b))).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return errors.New("the cluster exists already")
	}
	return nil
}

// Update applies change to the current topology and stores the result as the next version,
// retrying when another writer got there first. change returning an error stores nothing.
func (s *Store) Update(ctx context.Context, change func(*Topology) error) (*Topology, error) {
	for {
		t, rev, err := s.Load(ctx)
		if err != nil {
			return nil, err
		}
		if err := change(t); err != nil {
			return nil, err
		}
		if err := t.Validate(); err != nil {
			return nil, err
		}
		t.Version++
		b, _ := json.Marshal(t)
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(s.key()), "=", rev)).
			Then(clientv3.OpPut(s.key(), string(b))).Commit()
		if err != nil {
			return nil, err
		}
		if resp.Succeeded {
			return t, nil
		}
	}
}
