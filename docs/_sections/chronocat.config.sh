# --- Chronocat (chronocat) ---
# export CHRONOCAT_URL=""  # your Chronocat server, e.g. http://127.0.0.1:16530
# export CHRONOCAT_QQ=""  # targets separated by ;, e.g. user_id=10001;group_id=20002
# export CHRONOCAT_TOKEN=""  # the token from Chronocat's configuration (secret)
