package epoll

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/iotrace/iotrace/workloads"
)

// runNetpoller is an ordinary Go echo server. It has no epoll code: the
// runtime registers each socket with its netpoller (epoll_ctl) and parks
// goroutines until epoll_pwait reports them ready.
func runNetpoller(env *workloads.Env) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	env.Printf("net.Listen echo server on %s", ln.Addr())

	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- fmt.Errorf("accept: %w", err)
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = io.Copy(c, c)
		served <- err
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	msg := []byte("hello, netpoller\n")
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil {
		return fmt.Errorf("echo server: %w", err)
	}
	env.Printf("echoed %d bytes %q; every epoll_ctl and epoll_pwait in this variant is the Go runtime's netpoller", len(got), got)
	return nil
}
