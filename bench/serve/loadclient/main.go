// Command loadclient drives a WebSocket server that speaks the subscribe/publish part of
// the wsdoctor realtime protocol (docs: /work/shared/spec/realtime.md, README "wsdoctor
// serve"): {"op":"subscribe","channel":C} → {"op":"subscribed",...}, {"op":"publish",
// "channel":C,"data":D} → {"op":"message","channel":C,...,"data":D} to every subscriber.
//
// Two modes, each printing one JSON line on stdout:
//
//	idle:   open -n connections, hold them -hold long, report the server's resident
//	        memory (VmRSS of -pid) before and after, and how many were still open.
//	fanout: open -subs subscribers on one channel, then one publisher sends -messages
//	        messages (paced at -rate per second, or as fast as the socket takes them
//	        with -rate 0); every subscriber records publish-to-delivery latency in an HDR
//	        histogram; reports delivered messages per second, p50/p99, losses.
//
// Everything is bounded: dials, the wait for subscriptions, the drain after the last
// publish. Built in GOPATH mode against Debian's golang-github-gorilla-websocket-dev
// and golang-github-codahale-hdrhistogram-dev (bench/serve.sh does it).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codahale/hdrhistogram"
	"github.com/gorilla/websocket"
)

var (
	mode        = flag.String("mode", "idle", "idle or fanout")
	url         = flag.String("url", "ws://127.0.0.1:8080/ws", "WebSocket URL")
	pid         = flag.Int("pid", 0, "server process id, for resident memory")
	n           = flag.Int("n", 1000, "idle: connections to open")
	hold        = flag.Duration("hold", 5*time.Second, "idle: how long to hold the connections")
	subs        = flag.Int("subs", 1000, "fanout: subscribers")
	messages    = flag.Int("messages", 200, "fanout: messages to publish")
	rate        = flag.Float64("rate", 0, "fanout: publishes per second (0: as fast as the socket takes them)")
	channel     = flag.String("channel", "bench", "fanout: channel name")
	drain       = flag.Duration("drain", 30*time.Second, "fanout: longest wait for deliveries after the last publish")
	concurrency = flag.Int("dial-concurrency", 128, "dials in flight at once")
	dialTimeout = flag.Duration("dial-timeout", 15*time.Second, "bound on one dial (TCP + upgrade)")
	sources     = flag.Int("source-addresses", 16, "spread connections over 127.0.0.1..127.0.0.N (more ephemeral ports)")
)

func main() {
	flag.Parse()
	runtime.GOMAXPROCS(runtime.NumCPU())
	var out map[string]interface{}
	switch *mode {
	case "idle":
		out = idle()
	case "fanout":
		out = fanout()
	default:
		fmt.Fprintf(os.Stderr, "loadclient: unknown -mode %q\n", *mode)
		os.Exit(64)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

// residentKiB reads VmRSS and VmHWM of -pid.
func residentKiB() (rss, hwm int64) {
	if *pid == 0 {
		return 0, 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return
}

func dialer(i int) *websocket.Dialer {
	local := net.IPv4(127, 0, 0, byte(1+i%*sources))
	return &websocket.Dialer{
		HandshakeTimeout: *dialTimeout,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		NetDial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: *dialTimeout, LocalAddr: &net.TCPAddr{IP: local}}
			return d.Dial(network, addr)
		},
	}
}

// dialAll opens count connections with bounded concurrency; each is retried twice.
func dialAll(count int) ([]*websocket.Conn, int, string) {
	conns := make([]*websocket.Conn, count)
	var failed int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *concurrency)
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			var err error
			for attempt := 0; attempt < 3; attempt++ {
				var c *websocket.Conn
				c, _, err = dialer(i).Dial(*url, nil)
				if err == nil {
					conns[i] = c
					return
				}
			}
			atomic.AddInt64(&failed, 1)
			firstErr.CompareAndSwap(nil, err.Error())
		}(i)
	}
	wg.Wait()
	open := conns[:0]
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	e, _ := firstErr.Load().(string)
	return open, int(failed), e
}

func idle() map[string]interface{} {
	// A few connections first, held throughout, so one-time costs (thread pools, lazy
	// allocations of the first connection) land in the baseline, not in the per-connection figure.
	warm, _, _ := dialAll(32)
	for _, c := range warm {
		go func(c *websocket.Conn) {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}(c)
	}
	time.Sleep(1 * time.Second)
	rssBefore, _ := residentKiB()
	started := time.Now()
	conns, failed, firstErr := dialAll(*n)
	dialed := time.Since(started)
	var alive int64 = int64(len(conns))
	for _, c := range conns {
		go func(c *websocket.Conn) {
			// Read (and so answer pings) until the connection ends.
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					atomic.AddInt64(&alive, -1)
					return
				}
			}
		}(c)
	}
	time.Sleep(2 * time.Second) // let the server settle before sampling memory
	rssAfter, hwm := residentKiB()
	time.Sleep(*hold)
	held := atomic.LoadInt64(&alive)
	for _, c := range append(conns, warm...) {
		c.Close()
	}
	perConn := 0.0
	if len(conns) > 0 {
		perConn = float64(rssAfter-rssBefore) * 1024 / float64(len(conns))
	}
	return map[string]interface{}{
		"mode": "idle", "requested": *n, "opened": len(conns), "failed": failed, "first_error": firstErr,
		"held": held, "dial_seconds": dialed.Seconds(), "rss_before_kib": rssBefore, "rss_after_kib": rssAfter,
		"hwm_kib": hwm, "per_conn_bytes": perConn,
	}
}

// shards of the latency histogram (microseconds), so subscribers rarely contend.
type shard struct {
	sync.Mutex
	h *hdrhistogram.Histogram
}

var (
	tKey      = []byte(`"t":`)
	opMessage = []byte(`"op":"message"`)
	opSubbed  = []byte(`"op":"subscribed"`)
)

// sentAt finds `"t":NANOS` in a message without decoding all of it.
func sentAt(msg []byte) (int64, bool) {
	i := bytes.Index(msg, tKey)
	if i < 0 {
		return 0, false
	}
	var v int64
	j := i + len(tKey)
	for ; j < len(msg) && msg[j] >= '0' && msg[j] <= '9'; j++ {
		v = v*10 + int64(msg[j]-'0')
	}
	return v, j > i+len(tKey)
}

func fanout() map[string]interface{} {
	conns, failed, firstErr := dialAll(*subs)
	shards := make([]*shard, 32)
	for i := range shards {
		shards[i] = &shard{h: hdrhistogram.New(1, 120_000_000, 3)}
	}
	var delivered, subscribed, disconnected int64
	var lastDelivery int64 // unix nanos
	subscribe := []byte(fmt.Sprintf(`{"op":"subscribe","channel":%q}`, *channel))
	for i, c := range conns {
		go func(i int, c *websocket.Conn) {
			s := shards[i%len(shards)]
			if err := c.WriteMessage(websocket.TextMessage, subscribe); err != nil {
				atomic.AddInt64(&disconnected, 1)
				return
			}
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					atomic.AddInt64(&disconnected, 1)
					return
				}
				if bytes.Contains(msg, opMessage) {
					now := time.Now().UnixNano()
					if t, ok := sentAt(msg); ok {
						s.Lock()
						_ = s.h.RecordValue((now - t) / 1000)
						s.Unlock()
					}
					atomic.AddInt64(&delivered, 1)
					atomic.StoreInt64(&lastDelivery, now)
				} else if bytes.Contains(msg, opSubbed) {
					atomic.AddInt64(&subscribed, 1)
				}
			}
		}(i, c)
	}
	// Bounded wait for every subscription to be acknowledged.
	deadline := time.Now().Add(60 * time.Second)
	for atomic.LoadInt64(&subscribed)+atomic.LoadInt64(&disconnected) < int64(len(conns)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ready := atomic.LoadInt64(&subscribed)
	time.Sleep(1 * time.Second)
	rssSubs, _ := residentKiB()

	pub, _, err := dialer(len(conns)).Dial(*url, nil)
	if err != nil {
		return map[string]interface{}{"mode": "fanout", "error": "publisher: " + err.Error()}
	}
	go func() {
		for {
			if _, _, err := pub.ReadMessage(); err != nil {
				return
			}
		}
	}()
	expected := int64(*messages) * ready
	started := time.Now()
	var interval time.Duration
	if *rate > 0 {
		interval = time.Duration(float64(time.Second) / *rate)
	}
	for i := 0; i < *messages; i++ {
		if interval > 0 {
			if wait := time.Until(started.Add(time.Duration(i) * interval)); wait > 0 {
				time.Sleep(wait)
			}
		}
		msg := fmt.Sprintf(`{"op":"publish","channel":%q,"data":{"seq":%d,"t":%d}}`, *channel, i, time.Now().UnixNano())
		if err := pub.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return map[string]interface{}{"mode": "fanout", "error": "publish: " + err.Error()}
		}
	}
	published := time.Since(started)
	// Bounded drain: until everything arrived, or -drain passed, or nothing arrived for 5 s.
	drainUntil := time.Now().Add(*drain)
	lastCount, lastProgress := int64(-1), time.Now()
	for time.Now().Before(drainUntil) {
		got := atomic.LoadInt64(&delivered)
		if got >= expected {
			break
		}
		if got != lastCount {
			lastCount, lastProgress = got, time.Now()
		} else if time.Since(lastProgress) > 5*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := atomic.LoadInt64(&delivered)
	end := time.Unix(0, atomic.LoadInt64(&lastDelivery))
	elapsed := end.Sub(started)
	if elapsed <= 0 {
		elapsed = time.Since(started)
	}
	rssEnd, hwm := residentKiB()
	disconnects := atomic.LoadInt64(&disconnected)
	pub.Close()
	for _, c := range conns {
		c.Close()
	}
	all := hdrhistogram.New(1, 120_000_000, 3)
	for _, s := range shards {
		s.Lock()
		all.Merge(s.h)
		s.Unlock()
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return map[string]interface{}{
		"mode": "fanout", "subscribers": len(conns), "failed": failed, "first_error": firstErr, "subscribed": ready,
		"messages": *messages, "rate": *rate, "expected": expected, "delivered": got, "lost": expected - got,
		"disconnected": disconnects, "publish_seconds": published.Seconds(),
		"elapsed_seconds": elapsed.Seconds(), "delivered_per_sec": float64(got) / elapsed.Seconds(),
		"p50_ms": ms(all.ValueAtQuantile(50)), "p99_ms": ms(all.ValueAtQuantile(99)), "max_ms": ms(all.Max()),
		"rss_subscribed_kib": rssSubs, "rss_end_kib": rssEnd, "hwm_kib": hwm,
	}
}
