# --- Aibotk 智能微秘书 (aibotk) ---
# export AIBOTK_KEY=""  # the apiKey from the Aibotk console (secret)
# export AIBOTK_TYPE=""  # room (a group) or contact (a friend)
# export AIBOTK_NAME=""  # the group's name or the friend's nickname
