// Command gorilla is the Go baseline for bench/serve.sh: the subscribe/publish part of
// the wsdoctor realtime protocol on gorilla/websocket, written the way gorilla's own
// chat example is (a read goroutine and a write goroutine per connection, a buffered
// send queue, pings every 20 s). No history, no recovery, no limits beyond a slow
// consumer being dropped: a floor to compare `wsdoctor serve` with, not a product.
//
//	welcome on connect; {"op":"subscribe","channel":C} → subscribed;
//	{"op":"publish","channel":C,"data":D} → published, and message to every subscriber.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	queueSize    = 256 // as in gorilla's chat example: beyond it the consumer is dropped
	pingInterval = 20 * time.Second
	writeWait    = 10 * time.Second
)

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }}

type client struct {
	conn *websocket.Conn
	send chan []byte
	once sync.Once
}

func (c *client) close() { c.once.Do(func() { close(c.send) }) }

type channel struct {
	offset int64
	subs   map[*client]struct{}
}

type hub struct {
	sync.Mutex
	channels map[string]*channel
}

var h = hub{channels: map[string]*channel{}}

func (h *hub) get(name string) *channel {
	ch := h.channels[name]
	if ch == nil {
		ch = &channel{subs: map[*client]struct{}{}}
		h.channels[name] = ch
	}
	return ch
}

type request struct {
	Op      string          `json:"op"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	ID      json.RawMessage `json:"id"`
}

func withID(id json.RawMessage) string {
	if len(id) == 0 {
		return ""
	}
	return `,"id":` + string(id)
}

// enqueue never blocks: a full queue drops the consumer.
func (c *client) enqueue(msg []byte) {
	defer func() { recover() }() // send on a queue closed by a concurrent drop
	select {
	case c.send <- msg:
	default:
		c.close()
	}
}

func serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{conn: conn, send: make(chan []byte, queueSize)}
	go c.writeLoop()
	c.enqueue([]byte(`{"op":"welcome","session":"g","pingIntervalMs":20000}`))
	c.readLoop()
}

func (c *client) readLoop() {
	subscribed := map[string]bool{}
	defer func() {
		h.Lock()
		for name := range subscribed {
			delete(h.get(name).subs, c)
		}
		h.Unlock()
		c.close()
		c.conn.Close()
	}()
	c.conn.SetReadLimit(64 * 1024)
	c.conn.SetReadDeadline(time.Now().Add(2 * pingInterval))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(2 * pingInterval)); return nil })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var req request
		if json.Unmarshal(data, &req) != nil {
			c.enqueue([]byte(`{"op":"error","code":"bad-request","message":"malformed"}`))
			continue
		}
		switch req.Op {
		case "subscribe":
			h.Lock()
			ch := h.get(req.Channel)
			ch.subs[c] = struct{}{}
			offset := ch.offset
			h.Unlock()
			subscribed[req.Channel] = true
			c.enqueue([]byte(`{"op":"subscribed","channel":` + strconv.Quote(req.Channel) + `,"epoch":"g","offset":` +
				strconv.FormatInt(offset, 10) + `,"recovered":true` + withID(req.ID) + `}`))
		case "publish":
			h.Lock()
			ch := h.get(req.Channel)
			ch.offset++
			msg := []byte(`{"op":"message","channel":` + strconv.Quote(req.Channel) + `,"epoch":"g","offset":` +
				strconv.FormatInt(ch.offset, 10) + `,"data":` + string(req.Data) + `}`)
			for sub := range ch.subs {
				sub.enqueue(msg)
			}
			offset := ch.offset
			h.Unlock()
			c.enqueue([]byte(`{"op":"published","channel":` + strconv.Quote(req.Channel) + `,"epoch":"g","offset":` +
				strconv.FormatInt(offset, 10) + withID(req.ID) + `}`))
		default:
			c.enqueue([]byte(`{"op":"error","code":"bad-request","message":"unknown op"` + withID(req.ID) + `}`))
		}
	}
}

func (c *client) writeLoop() {
	ticker := time.NewTicker(pingInterval)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1008, "slow consumer"))
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gorilla:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gorilla: listening on http://%s\n", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", serveWS)
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		os.Exit(0)
	}()
	http.Serve(ln, mux)
}
