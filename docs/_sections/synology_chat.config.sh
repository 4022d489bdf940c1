# --- Synology Chat (synology_chat) ---
# export CHAT_URL=""  # incoming webhook URL up to and including token=
# export CHAT_TOKEN=""  # the webhook token, with or without its %22 quotes (secret)
