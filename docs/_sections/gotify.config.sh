# --- Gotify (gotify) ---
# export GOTIFY_URL=""  # your Gotify server, e.g. https://gotify.example.com (a path prefix is kept)
# export GOTIFY_TOKEN=""  # application token from the Apps tab (secret)
# export GOTIFY_PRIORITY=""  # 0 to 10; default 5 (0 is silent on Android)
