# --- ServerChan (serverchan) ---
# export PUSH_KEY=""  # SendKey: SCT... (Turbo) or sctp<uid>t... (ServerChan³) (secret)
