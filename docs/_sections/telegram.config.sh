# --- Telegram bot (telegram) ---
# export TG_BOT_TOKEN=""  # bot token from @BotFather, e.g. 123456789:AAE... (secret)
# export TG_USER_ID=""  # chat id: your user id, a negative group id, or @channelname
# export TG_API_HOST=""  # replaces https://api.telegram.org (reverse proxy); https:// assumed without a scheme
# export TG_PROXY_HOST=""  # HTTP proxy host or IP
# export TG_PROXY_PORT=""  # HTTP proxy port
# export TG_PROXY_AUTH=""  # proxy credentials as user:password (secret)
