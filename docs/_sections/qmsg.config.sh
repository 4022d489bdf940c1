# --- Qmsg酱 (qmsg) ---
# export QMSG_KEY=""  # your KEY from qmsg.zendee.cn (secret)
# export QMSG_TYPE=""  # send (private message) or group (group message)
