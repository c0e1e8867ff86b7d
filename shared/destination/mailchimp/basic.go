package mailchimp

import "encoding/base64"

// basic is the HTTP Basic credential of user and password.
func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
