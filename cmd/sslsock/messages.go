package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sslsocket/sslsocket/ssl"
)

// cleanMessage drops the "ssl: " prefixes the library's wrapped errors
// repeat ("ssl: SslInvalidUserDataError: ssl: invalid configuration: …"
// reads "SslInvalidUserDataError: invalid configuration: …"): every line
// already starts with "sslsock: ".
func cleanMessage(s string) string {
	return strings.TrimPrefix(strings.ReplaceAll(s, ": ssl: ", ": "), "ssl: ")
}

// inputError is a usage error (exit 2) for an input file that flag names
// and that cannot be read or is not what the flag takes. The message names
// the flag and the file once, and for DER given where PEM is read says
// what to do (derHint).
func inputError(flag, file string, err error, derHint string) error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Path + ": " + pe.Err.Error() // not "open x: …" / "stat x: …"
	}
	if file != "" && !strings.Contains(msg, file) {
		msg = file + ": " + msg
	}
	if flag != "" {
		msg = flag + " " + msg
	}
	if errors.Is(err, ssl.ErrLooksLikeDer) && derHint != "" {
		msg += " (" + derHint + ")"
	}
	return usageError{msg: cleanMessage(msg), err: err}
}

// pemOnlyHint is the advice for DER given to a flag that reads PEM.
func pemOnlyHint(file string) string {
	return fmt.Sprintf("this flag reads PEM: convert it with openssl x509 -inform der -in %s -out %s.pem; sslsock cert show --der %s shows it", file, file, file)
}
