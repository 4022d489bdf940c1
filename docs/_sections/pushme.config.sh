# --- PushMe (pushme) ---
# export PUSHME_KEY=""  # your push_key from the PushMe app (secret)
# export PUSHME_URL=""  # a self-hosted PushMeServer, e.g. http://127.0.0.1:3010 (default https://push.i-i.me/)
