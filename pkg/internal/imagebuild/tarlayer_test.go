package main

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestTarFiles(t *testing.T) {
	mtime := time.Date(2025, 5, 6, 7, 8, 9, 500, time.UTC)
	files := []file{
		{Name: "/tmp", Dir: true, Mode: 0o1777},
		{Name: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0::/:/sbin/nologin\n")},
		{Name: "etc", Dir: true, Mode: 0o755},
		{Name: "/etc/ssl-x", Mode: 0o644, Data: []byte("x")},
		{Name: "/etc/ssl", Dir: true, Mode: 0o755},
		{Name: "/etc/ssl/c", Mode: 0o600, UID: 7, GID: 8, Data: []byte("c")},
	}
	a, err := tarFiles(files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	reversed := make([]file, len(files))
	for i, f := range files {
		reversed[len(files)-1-i] = f
	}
	b, err := tarFiles(reversed, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the input order changes the tar")
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(mtime.Truncate(time.Second)) || h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() {
			t.Errorf("%s: mtime %s uname %q atime %s", h.Name, h.ModTime, h.Uname, h.AccessTime)
		}
		if h.Name == "etc/ssl/c" && (h.Uid != 7 || h.Gid != 8 || h.Mode != 0o600) {
			t.Errorf("etc/ssl/c header %+v", h)
		}
		if h.Name == "tmp/" && h.Mode != 0o1777 {
			t.Errorf("tmp mode %o", h.Mode)
		}
	}
	// Sorted by path; a directory comes before its entries.
	want := "etc/ etc/passwd etc/ssl/ etc/ssl-x etc/ssl/c tmp/"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries %q, want %q", got, want)
	}

	for _, bad := range [][]file{
		{{Name: "/a", Mode: 0o644}, {Name: "a", Mode: 0o644}},
		{{Name: "/", Dir: true, Mode: 0o755}},
	} {
		if _, err := tarFiles(bad, mtime); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
