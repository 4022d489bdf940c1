# --- WePlus bot (weplus) ---
# export WE_PLUS_BOT_TOKEN=""  # your token from weplusbot.com (secret)
# export WE_PLUS_BOT_RECEIVER=""  # a friend's wxid or a group code; empty sends to yourself
# export WE_PLUS_BOT_VERSION=""  # pro (default) or personal
