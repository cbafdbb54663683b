"""E-mail: the SMTP notifier and the MIME messages it sends."""
