// qstrs specific to the fastsock host port (most are collected automatically)
