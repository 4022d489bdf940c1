# --- Bark (bark) ---
# export BARK_PUSH=""  # device key, or https://api.day.app/KEY (or your own bark-server URL ending with the key) (secret)
# export BARK_ARCHIVE=""  # 1 keeps the message in the app's history, 0 does not
# export BARK_GROUP=""  # group name shown in the app
# export BARK_SOUND=""  # sound name, e.g. minuet
# export BARK_ICON=""  # icon URL (iOS 15+)
# export BARK_LEVEL=""  # active, timeSensitive, passive or critical
# export BARK_URL=""  # URL opened when the notification is tapped
