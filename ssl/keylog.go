package ssl

import "io"

// SetKeyLogWriter makes the go backend write this configuration's session
// secrets to w in the NSS key log format that Wireshark reads (the format
// of the SSLKEYLOGFILE convention). Anyone holding the log can decrypt the
// traffic: use it only to debug, never by default. Nil, the default,
// writes nothing. Unlike some TLS libraries, this package never reads
// SSLKEYLOGFILE itself; an application that wants the convention opens the
// file and calls SetKeyLogWriter, as the sslsock tool does.
func (c *Configuration) SetKeyLogWriter(w io.Writer) { c.keyLogWriter = w }

// KeyLogWriter returns the writer set with SetKeyLogWriter, or nil.
func (c Configuration) KeyLogWriter() io.Writer { return c.keyLogWriter }
