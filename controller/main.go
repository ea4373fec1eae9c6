// fdb-controller keeps an FDB cluster's topology in etcd and applies it to the nodes
// (docs/cluster.md). One binary is both the controller (`serve`) and its command-line client:
//
//	fdb-controller [flags] serve [--http 127.0.0.1:7070] [--id NAME]
//	fdb-controller [flags] create [--replicas N] ADDR...
//	fdb-controller [flags] add-node ADDR [--replica-of ID]
//	fdb-controller [flags] remove-node ID
//	fdb-controller [flags] move-slot SLOT ID
//	fdb-controller [flags] rebalance [--batch N]
//	fdb-controller [flags] failover ID
//	fdb-controller [flags] show [--json]
//
// Common flags: --etcd host:port,... (the etcd members), --prefix /fdb/<cluster-name>; TLS to
// etcd (--etcd-cacert, --etcd-cert, --etcd-key) and its users (--etcd-user, --etcd-password);
// the nodes' ACL user and password (--node-user, --node-password, or $FDB_NODE_*).
// The commands other than serve change the topology in etcd (a transaction on its revision);
// the acting controller then pushes it to the nodes.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	global := flag.NewFlagSet("fdb-controller", flag.ExitOnError)
	endpoints := global.String("etcd", "127.0.0.1:2379", "etcd members, comma-separated")
	prefix := global.String("prefix", "/fdb/default", "etcd key prefix of this cluster")
	timeout := global.Duration("node-timeout", 500*time.Millisecond, "timeout of one node request")
	nodeUser := global.String("node-user", os.Getenv("FDB_NODE_USER"),
		"ACL user to log in to the nodes as (default $FDB_NODE_USER; empty: the default user)")
	nodePass := global.String("node-password", os.Getenv("FDB_NODE_PASSWORD"),
		"password of that user on the nodes (default $FDB_NODE_PASSWORD; empty: none)")
	etcdUser := global.String("etcd-user", os.Getenv("FDB_ETCD_USER"),
		"etcd user (default $FDB_ETCD_USER; empty: no etcd authentication)")
	etcdPass := global.String("etcd-password", os.Getenv("FDB_ETCD_PASSWORD"),
		"that etcd user's password (default $FDB_ETCD_PASSWORD)")
	etcdCA := global.String("etcd-cacert", "", "CA of the etcd members' certificates: TLS to etcd")
	etcdCert := global.String("etcd-cert", "", "client certificate for etcd (with --etcd-key)")
	etcdKey := global.String("etcd-key", "", "the client certificate's key")
	global.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: fdb-controller [--etcd HOSTS] [--prefix P] "+
			"serve|create|add-node|remove-node|move-slot|rebalance|failover|show ...")
		global.PrintDefaults()
	}
	_ = global.Parse(os.Args[1:])
	args := global.Args()
	if len(args) == 0 {
		global.Usage()
		os.Exit(2)
	}
	tlsConfig, err := etcdTLS(*etcdCA, *etcdCert, *etcdKey)
	if err != nil {
		log.Fatalf("etcd: %v", err)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second,
		TLS: tlsConfig, Username: *etcdUser, Password: *etcdPass,
	})
	if err != nil {
		log.Fatalf("etcd: %v", err)
	}
	defer cli.Close()
	c := &Controller{
		ID: "controller", Store: &Store{cli: cli, prefix: *prefix}, Nodes: NewNodes(*timeout, NodeAuth{User: *nodeUser, Password: *nodePass}),
		ProbeInterval: 500 * time.Millisecond, FailAfter: 3, SessionTTL: 5, CatchUp: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, args[0], args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fdb-controller:", err)
		os.Exit(1)
	}
}

// etcdTLS is the client TLS configuration for etcd: nil (plain) without a CA; with one, the
// members' certificates are verified against it, and a client certificate is presented when
// both cert and key are given (etcd's --client-cert-auth).
func etcdTLS(ca, cert, key string) (*tls.Config, error) {
	if ca == "" {
		if cert != "" || key != "" {
			return nil, fmt.Errorf("--etcd-cert and --etcd-key need --etcd-cacert")
		}
		return nil, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", ca)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("--etcd-cert and --etcd-key go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func run(ctx context.Context, c *Controller, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	switch cmd {
	case "serve":
		httpAddr := fs.String("http", "", "address of the HTTP API (empty: none)")
		id := fs.String("id", "", "this controller's name in the election (default host:pid)")
		probe := fs.Duration("probe-interval", c.ProbeInterval, "time between probes")
		failAfter := fs.Int("fail-after", c.FailAfter, "failed probes before a failover")
		ttl := fs.Int("session-ttl", c.SessionTTL, "seconds of the leader's etcd lease")
		_ = fs.Parse(args)
		c.ID = *id
		if c.ID == "" {
			host, _ := os.Hostname()
			c.ID = fmt.Sprintf("%s:%d", host, os.Getpid())
		}
		c.ProbeInterval, c.FailAfter, c.SessionTTL = *probe, *failAfter, *ttl
		if *httpAddr != "" {
			srv := &http.Server{Addr: *httpAddr, Handler: NewAPI(c)}
			go func() {
				if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
					log.Fatalf("http: %v", err)
				}
			}()
			defer srv.Close()
		}
		return c.Run(ctx)
	case "create":
		replicas := fs.Int("replicas", 0, "replicas per primary")
		_ = fs.Parse(args)
		t, err := c.Create(ctx, fs.Args(), *replicas)
		return show(t, err)
	case "add-node":
		_ = fs.Parse(args)
		if fs.NArg() < 1 {
			return fmt.Errorf("add-node ADDR [--replica-of ID]")
		}
		addr := fs.Arg(0)
		fs2 := flag.NewFlagSet(cmd, flag.ExitOnError)
		replicaOf := fs2.String("replica-of", "", "the primary this node replicates")
		_ = fs2.Parse(fs.Args()[1:])
		t, err := c.AddNode(ctx, addr, *replicaOf)
		return show(t, err)
	case "remove-node":
		_ = fs.Parse(args)
		t, err := c.RemoveNode(ctx, fs.Arg(0))
		return show(t, err)
	case "move-slot":
		_ = fs.Parse(args)
		slot, err := strconv.Atoi(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("move-slot SLOT ID")
		}
		t, err := c.MoveSlot(ctx, slot, fs.Arg(1))
		return show(t, err)
	case "rebalance":
		batch := fs.Int("batch", 1024, "slots per move")
		_ = fs.Parse(args)
		t, err := c.Rebalance(ctx, *batch)
		return show(t, err)
	case "failover":
		_ = fs.Parse(args)
		t, err := c.Failover(ctx, fs.Arg(0), true)
		return show(t, err)
	case "show":
		asJSON := fs.Bool("json", false, "print the topology as JSON (the HTTP API's form)")
		_ = fs.Parse(args)
		t, _, err := c.Store.Load(ctx)
		if err == nil && *asJSON {
			return json.NewEncoder(os.Stdout).Encode(t)
		}
		return show(t, err)
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func show(t *Topology, err error) error {
	if err != nil {
		return err
	}
	fmt.Print(Describe(t))
	return nil
}

// NewAPI is the HTTP API: the same operations as the CLI, as JSON.
//
//	GET    /topology                      the topology
//	GET    /leader                        the acting controller
//	POST   /cluster   {"addrs": [...], "replicas": N}
//	POST   /nodes     {"addr": "...", "replica_of": "..."}
//	DELETE /nodes/ID
//	POST   /slots/SLOT/move {"node": "ID"}
//	POST   /rebalance {"batch": N}
//	POST   /failover  {"node": "ID"}
func NewAPI(c *Controller) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v interface{}, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /topology", func(w http.ResponseWriter, r *http.Request) {
		t, _, err := c.Store.Load(r.Context())
		reply(w, t, err)
	})
	mux.HandleFunc("GET /leader", func(w http.ResponseWriter, r *http.Request) {
		id, err := c.Leader(r.Context())
		reply(w, map[string]string{"leader": id}, err)
	})
	mux.HandleFunc("POST /cluster", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Addrs    []string `json:"addrs"`
			Replicas int      `json:"replicas"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			reply(w, nil, err)
			return
		}
		t, err := c.Create(r.Context(), req.Addrs, req.Replicas)
		reply(w, t, err)
	})
	mux.HandleFunc("POST /nodes", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Addr      string `json:"addr"`
			ReplicaOf string `json:"replica_of"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			reply(w, nil, err)
			return
		}
		t, err := c.AddNode(r.Context(), req.Addr, req.ReplicaOf)
		reply(w, t, err)
	})
	mux.HandleFunc("DELETE /nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := c.RemoveNode(r.Context(), r.PathValue("id"))
		reply(w, t, err)
	})
	mux.HandleFunc("POST /slots/{slot}/move", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Node string `json:"node"`
		}
		slot, err := strconv.Atoi(r.PathValue("slot"))
		if err == nil {
			err = json.NewDecoder(r.Body).Decode(&req)
		}
		if err != nil {
			reply(w, nil, err)
			return
		}
		t, err := c.MoveSlot(r.Context(), slot, req.Node)
		reply(w, t, err)
	})
	mux.HandleFunc("POST /rebalance", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Batch int `json:"batch"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Batch <= 0 {
			req.Batch = 1024
		}
		t, err := c.Rebalance(r.Context(), req.Batch)
		reply(w, t, err)
	})
	mux.HandleFunc("POST /failover", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Node string `json:"node"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			reply(w, nil, err)
			return
		}
		t, err := c.Failover(r.Context(), req.Node, true)
		reply(w, t, err)
	})
	return mux
}
