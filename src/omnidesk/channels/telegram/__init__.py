"""Telegram bots: the webhook (X-Telegram-Bot-Api-Secret-Token) and sendMessage."""
