# --- iGot (igot) ---
# export IGOT_PUSH_KEY=""  # your iGot push key (secret)
