import Approvals
import HTTPTypes
import Hummingbird
import NIOCore

/// `/approve/<token>` on the HTTP server: the answer page (GET shows, POST answers). It needs no
/// bearer token, only its own one-time token; what it serves may not be framed, cached or referred.
enum ApprovalRoutes {
    /// A form post is a few hundred bytes.
    static let maximumFormBytes = 4096

    static func add(to router: Router<BasicRequestContext>, pages: ApprovalPages) {
        let group = router.group(RouterPath(String(ApprovalPages.pathPrefix.dropLast())))
        group.get(":token") { _, context in
            response(await pages.show(token: context.parameters.get("token") ?? ""))
        }
        group.post(":token") { request, context in
            var request = request
            guard let body = try? await request.collectBody(upTo: maximumFormBytes) else {
                return Response(status: .contentTooLarge)
            }
            let form = String(buffer: body)
            return response(
                await pages.submit(
                    token: context.parameters.get("token") ?? "", form: form, origin: request.headers[.origin],
                    host: request.head.authority))
        }
    }

    static func response(_ page: ApprovalPages.Page) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ]
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .init(code: page.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.html)))
    }
}
