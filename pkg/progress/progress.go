// Package progress draws per-item progress bars on a terminal (stderr). It
// redraws at a fixed rate, so callers can report bytes as often as they like.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bars is a set of progress bars drawn together.
type Bars struct {
	w     io.Writer
	mu    sync.Mutex
	bars  []*Bar
	drawn int
	stop  chan struct{}
	done  chan struct{}
}

// Bar is one item's progress.
type Bar struct {
	label  string
	total  int64
	n      atomic.Int64
	mu     sync.Mutex
	status string
}

// New starts drawing bars on w (call Stop when finished).
func New(w io.Writer) *Bars {
	b := &Bars{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// Add adds a bar for an item of total bytes.
func (b *Bars) Add(label string, total int64) *Bar {
	bar := &Bar{label: label, total: total}
	b.mu.Lock()
	b.bars = append(b.bars, bar)
	b.mu.Unlock()
	return bar
}

// Set records n bytes done.
func (bar *Bar) Set(n int64) {
	if bar != nil {
		bar.n.Store(n)
	}
}

// Add records n more bytes done.
func (bar *Bar) Add(n int64) {
	if bar != nil {
		bar.n.Add(n)
	}
}

// Done marks the item finished with a short status ("pushed", "exists").
func (bar *Bar) Done(status string) {
	if bar == nil {
		return
	}
	bar.mu.Lock()
	bar.status = status
	bar.mu.Unlock()
	bar.n.Store(bar.total)
}

// Stop draws the final state and stops.
func (b *Bars) Stop() {
	close(b.stop)
	<-b.done
}

func (b *Bars) loop() {
	defer close(b.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.draw()
		case <-b.stop:
			b.draw()
			return
		}
	}
}

func (b *Bars) draw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	for _, bar := range b.bars {
		sb.WriteString("\x1b[2K")
		sb.WriteString(bar.line())
		sb.WriteString("\n")
	}
	b.drawn = len(b.bars)
	_, _ = io.WriteString(b.w, sb.String())
}

const width = 24

func (bar *Bar) line() string {
	n := bar.n.Load()
	bar.mu.Lock()
	status := bar.status
	bar.mu.Unlock()
	frac := 1.0
	if bar.total > 0 {
		frac = float64(n) / float64(bar.total)
	}
	if frac > 1 {
		frac = 1
	}
	filled := int(frac * width)
	bars := strings.Repeat("=", filled)
	if filled < width {
		bars += ">" + strings.Repeat(" ", width-filled-1)
	}
	if status == "" {
		status = fmt.Sprintf("%3.0f%%", frac*100)
	}
	return fmt.Sprintf("%-24s [%s] %9s / %-9s %s", truncate(bar.label, 24), bars, Bytes(n), Bytes(bar.total), status)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Bytes formats a byte count for people (SI units).
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
