# --- DingTalk robot (dingtalk) ---
# export DD_BOT_TOKEN=""  # access_token from the robot's webhook URL (secret)
# export DD_BOT_SECRET=""  # signing secret SEC... when the robot uses 加签; unset for keyword or IP allow-list robots (secret)
