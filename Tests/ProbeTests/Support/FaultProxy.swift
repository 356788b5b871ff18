import Foundation
import NIOCore
import NIOPosix
@testable import Probe

extension FaultConnection {
    /// Acts as an HTTP CONNECT proxy for one connection: checks `Proxy-Authorization`
    /// when `credentials` is set, answers `refuse` when given, else tunnels to 127.0.0.1:`port`.
    func actAsProxy(to port: Int, credentials: String? = nil, refuse: (Int, String)? = nil) async {
        guard let request = await readRequest(), request.method == "CONNECT" else { return await close() }
        if let credentials {
            let expected = "Basic " + Data(credentials.utf8).base64EncodedString()
            if request.header("Proxy-Authorization") != expected {
                await respond(407, "Proxy Authentication Required", headers: [("Proxy-Authenticate", "Basic realm=\"test\"")])
                return await close()
            }
        }
        if let (status, reason) = refuse {
            await respond(status, reason, body: "tunnel refused")
            return await close()
        }
        await tunnel(to: port)
    }

    /// Sends `200 Connection established` and pipes bytes both ways until either side ends.
    private func tunnel(to port: Int) async {
        guard let upstream = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port, channelInitializer: { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            })
        else {
            await respond(502, "Bad Gateway")
            return await close()
        }
        await send("HTTP/1.1 200 Connection established\r\n\r\n")
        let inbox = self.inbox
        let output = self.output
        try? await upstream.executeThenClose { upIn, upOut in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while case .data(let b) = await inbox.next(deadline: .now + .seconds(60)) {
                        try? await upOut.write(b)
                    }
                }
                group.addTask {
                    do { for try await chunk in upIn { try await output.write(chunk) } } catch {}
                }
                await group.next()
                group.cancelAll()
            }
        }
        await close()
    }
}
