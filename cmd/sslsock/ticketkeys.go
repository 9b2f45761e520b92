package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// ticketKeyCheckInterval is how often serve looks at its --ticket-keys file.
const ticketKeyCheckInterval = time.Second

// serveTicketKeys loads serve's --ticket-keys file onto cfg and watches it
// until ctx ends: each change is taken up and logged ("ticketKeys"), a bad
// file logged ("ticketKeysError") while the keys in use stay. The log
// names keys by their identifiers only.
func serveTicketKeys(ctx context.Context, path, backend string, cfg *ssl.Configuration, out *eventLog) error {
	if !ssl.IsFeatureSupported(ssl.FeatureSessionTicketKeys, backend) {
		return fmt.Errorf("--ticket-keys: the %s backend cannot use shared session ticket keys", backend)
	}
	f, err := ssl.OpenTicketKeyFile(path)
	if err != nil {
		return fmt.Errorf("--ticket-keys: %w", err)
	}
	f.SetCheckInterval(-1) // the watcher below looks, and logs what it finds
	cfg.SetSessionTicketKeys(f)
	logKeys := func() {
		out.event("ticketKeys", nil, map[string]any{"file": path, "keys": f.TicketKeys().IDs(),
			"description": f.TicketKeys().String()})
	}
	logKeys()
	go func() {
		t := time.NewTicker(ticketKeyCheckInterval)
		defer t.Stop()
		lastErr := ""
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			changed, err := f.Reload()
			switch {
			case err != nil && err.Error() != lastErr: // once per problem, not every second
				lastErr = err.Error()
				out.event("ticketKeysError", nil, map[string]any{"file": path, "errorString": lastErr})
			case err == nil:
				lastErr = ""
				if changed {
					logKeys()
				}
			}
		}
	}()
	return nil
}

// sessionFlagAliases are openssl s_client's names of connect's session flags.
var sessionFlagAliases = map[string]string{"sess-out": "session-out", "sess-in": "session-in"}

// resumedWords says whether the handshake resumed, under which ticket key,
// and whether a saved session was offered in vain.
func resumedWords(r *connectReport) string {
	switch {
	case r.Resumed && r.TicketKey != "":
		return "yes (ticket key " + r.TicketKey + ")"
	case !r.Resumed && r.SessionOffered:
		return "no (the saved session was offered; the server made a full handshake)"
	}
	return yesNo(r.Resumed)
}
