"""The whole-plan check, before any change: what each pending phase creates, adopts or refuses."""
