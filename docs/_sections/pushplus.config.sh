# --- PushPlus (pushplus) ---
# export PUSH_PLUS_TOKEN=""  # token from www.pushplus.plus (user center) (secret)
# export PUSH_PLUS_USER=""  # group code (topic) for one-to-many messages
# export PUSH_PLUS_TEMPLATE=""  # txt (default, keeps line breaks), html, markdown, json, ...
# export PUSH_PLUS_CHANNEL=""  # wechat (service default), webhook, cp, mail, sms
# export PUSH_PLUS_WEBHOOK=""  # webhook code configured on PushPlus (webhook and cp channels)
# export PUSH_PLUS_CALLBACKURL=""  # URL PushPlus calls with the final delivery result
# export PUSH_PLUS_TO=""  # friend token or WeCom user id to send to
