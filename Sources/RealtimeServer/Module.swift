public enum RealtimeServerModule {}
