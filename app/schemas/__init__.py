"""Request and response shapes of the JSON APIs, and the serializers behind them."""
