# --- ntfy (ntfy) ---
# export NTFY_TOPIC=""  # topic name (letters, digits, - and _); on ntfy.sh it works like a password (secret)
# export NTFY_URL=""  # your ntfy server; default https://ntfy.sh
# export NTFY_PRIORITY=""  # 1 (min) to 5 (max), or min/low/default/high/max; default 3
# export NTFY_TOKEN=""  # access token tk_..., sent as Bearer; wins over user and password (secret)
# export NTFY_USERNAME=""  # user for Basic auth, with NTFY_PASSWORD
# export NTFY_PASSWORD=""  # password for Basic auth, with NTFY_USERNAME (secret)
# export NTFY_ACTIONS=""  # action buttons in ntfy's header syntax, e.g. view, Open, https://example.com
