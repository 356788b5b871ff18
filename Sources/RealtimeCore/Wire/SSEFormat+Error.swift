extension SSEFormat {
    /// The last event of a stream the server ends on purpose (a consumer too slow to keep
    /// up): `event: error` with `{"error": code, "message": message}`.
    public static func error(code: String, message: String) -> String {
        var w = JSONObjectWriter()
        w.add("error", code)
        w.add("message", message)
        return "event: error\ndata: \(w.text)\n\n"
    }
}
