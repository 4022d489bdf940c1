# --- go-cqhttp / OneBot v11 (gocqhttp) ---
# export GOBOT_URL=""  # action URL, e.g. http://127.0.0.1:5700/send_private_msg or .../send_group_msg
# export GOBOT_QQ=""  # user_id=<QQ number> or group_id=<group number>
# export GOBOT_TOKEN=""  # access token when the OneBot server sets one (secret)
