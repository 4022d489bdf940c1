# --- WxPusher (wxpusher) ---
# export WXPUSHER_APP_TOKEN=""  # the application's token AT_... (secret)
# export WXPUSHER_UIDS=""  # user ids UID_... separated by ; (this or WXPUSHER_TOPIC_IDS)
# export WXPUSHER_TOPIC_IDS=""  # topic numbers separated by ;, at most 5 (this or WXPUSHER_UIDS)
