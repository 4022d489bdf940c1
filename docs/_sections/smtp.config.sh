# --- E-mail (smtp) ---
# export SMTP_SERVER=""  # host:port, e.g. smtp.qq.com:465 (port default 465 with SMTP_SSL=true, else 587)
# export SMTP_EMAIL=""  # your address: the login and the sender
# export SMTP_PASSWORD=""  # app password / authorization code (授权码) (secret)
# export SMTP_SSL=""  # true for implicit TLS (port 465); otherwise STARTTLS is required
# export SMTP_NAME=""  # sender display name
# export SMTP_TO=""  # recipients separated by , or ; (default: SMTP_EMAIL)
# export SMTP_EMAIL_TO=""  # same as SMTP_TO (newer QingLong name); SMTP_TO wins
# export SMTP_CA_FILE=""  # PEM file of CA certificates to trust (private CA)
# export SMTP_TLS_INSECURE=""  # true disables certificate verification (self-signed test servers only)
# export SMTP_ALLOW_PLAINTEXT=""  # true allows login without TLS when the server offers none (trusted local servers only)
