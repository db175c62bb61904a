package interop

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"
)

// proxyIdle is the idle timeout each proxy is configured with, where it
// has a setting for one.
const proxyIdle = 2 * time.Second

// proxy is an intermediary from Debian that a test runs in front of a Go
// server, configured by the test.
type proxy struct {
	name    string
	peer    outsidePeer
	setting string // the idle setting, as its configuration writes it; "" where it has none
	// cuts says whether the setting cuts an idle WebSocket: written by hand
	// from what TestWatchPaths saw, and checked by it.
	cuts bool
	// config writes the proxy's configuration into dir, for listening on
	// listen and passing WebSockets to upstream, and returns the command's
	// arguments.
	config func(dir, listen, upstream string) []string
}

var proxies = []proxy{
	{name: "nginx 1.22", setting: "proxy_read_timeout 2s", cuts: true,
		peer:   outsidePeer{name: "nginx", path: "/usr/sbin/nginx", install: "Debian package nginx"},
		config: nginxConfig},
	{name: "haproxy 2.6", setting: "timeout tunnel 2s", cuts: true,
		peer:   outsidePeer{name: "haproxy", path: "/usr/sbin/haproxy", install: "Debian package haproxy"},
		config: haproxyConfig},
	{name: "apache2 2.4 (mod_proxy_http)", setting: "ProxyPass ... upgrade=websocket timeout=2, ProxyTimeout 2",
		peer:   outsidePeer{name: "apache2", path: "/usr/sbin/apache2", install: "Debian package apache2"},
		config: apacheConfig},
	{name: "caddy 2.6", setting: "",
		peer:   outsidePeer{name: "caddy", path: "/usr/bin/caddy", install: "Debian package caddy"},
		config: caddyConfig},
}

func writeConfig(dir, name, text string) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		panic(err) // a test's own temporary directory
	}
	return path
}

func nginxConfig(dir, listen, upstream string) []string {
	conf := writeConfig(dir, "nginx.conf", fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s;
		location / {
			proxy_pass http://%[3]s;
			proxy_http_version 1.1;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection "upgrade";
			proxy_read_timeout 2s;
		}
	}
}
`, dir, listen, upstream))
	return []string{"-c", conf, "-p", dir, "-e", filepath.Join(dir, "error.log")}
}

func haproxyConfig(dir, listen, upstream string) []string {
	conf := writeConfig(dir, "haproxy.cfg", fmt.Sprintf(`global
	maxconn 256
defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	timeout tunnel 2s
frontend fe
	bind %s
	default_backend be
backend be
	server s1 %s
`, listen, upstream))
	return []string{"-f", conf, "-db"}
}

func apacheConfig(dir, listen, upstream string) []string {
	mods := "/usr/lib/apache2/modules/"
	conf := writeConfig(dir, "apache2.conf", fmt.Sprintf(`ServerRoot %[1]s
DefaultRuntimeDir %[1]s
PidFile %[1]s/apache2.pid
ErrorLog %[1]s/error.log
ServerName localhost
Listen %[2]s
User nobody
Group nogroup
LoadModule mpm_event_module %[4]smod_mpm_event.so
LoadModule authz_core_module %[4]smod_authz_core.so
LoadModule proxy_module %[4]smod_proxy.so
LoadModule proxy_http_module %[4]smod_proxy_http.so
ProxyTimeout 2
ProxyPass / http://%[3]s/ upgrade=websocket timeout=2
`, dir, listen, upstream, mods))
	return []string{"-f", conf, "-DFOREGROUND"}
}

func caddyConfig(dir, listen, upstream string) []string {
	conf := writeConfig(dir, "Caddyfile", fmt.Sprintf(`{
	admin off
	auto_https off
	storage file_system %s
}
http://%s {
	reverse_proxy %s
}
`, dir, listen, upstream))
	return []string{"run", "--config", conf, "--adapter", "caddyfile"}
}

// startProxy runs p on 127.0.0.1 in front of upstream (host:port) and
// returns its address; the test kills it by its PID when it ends.
func startProxy(t *testing.T, p proxy, upstream string) string {
	path := p.peer.need(t)
	dir := t.TempDir()
	listen := freeAddr(t)
	cmd := exec.Command(path, p.config(dir, listen, upstream)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, whose ID is its PID: the workers it forks
	// (nginx, apache2) are killed with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) did not exit after being killed", p.name, cmd.Process.Pid)
		}
	})
	// Ready when it proxies a request.
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + listen + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return listen
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", p.name, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not proxy within 10s (%v): %s", p.name, err, out.String())
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startEcho runs a Go echo server on gorilla/websocket on 127.0.0.1: it
// echoes messages, answers Pings (gorilla's default) and answers /ready
// with 200, for a proxy's readiness. It returns host:port.
func startEcho(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := gorillaws.Upgrader{HandshakeTimeout: timeout}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			return
		}
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Minute))
		for {
			op, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(op, msg) != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
