import EHCPAPI
import Hummingbird
import Logging

/// Turns every error a page throws into a page a person can act on: signed out (or a session that has
/// ended) goes to sign-in and comes back; 403, 404 and the rest get a plain-English page. Errors are
/// mapped to their status by `Problem.from`, the same mapping the API uses.
struct WebErrors: RouterMiddleware {
    typealias Context = APIContext
    let pages: Pages

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            switch problem.status.code {
            case 401:
                let path = request.uri.path
                let back = request.method == .get && path != "/" && path.hasPrefix("/") && !path.hasPrefix("//") ? "?next=" + path : ""
                return Pages.redirect("/sign-in" + back)
            case 500...:
                context.logger.error("page failed", metadata: ["request": "\(context.requestId)", "error": "\(String(reflecting: error))"])
            default: break
            }
            let (title, body) = Self.explain(problem)
            let view = ErrorPage(layout: Layout(title: title, session: context.sessions.session), message: body)
            var response = pages.render("error", view, status: problem.status)
            for field in problem.headers where field.name == .retryAfter { response.headers.append(field) }
            return response
        }
    }

    static func explain(_ problem: Problem) -> (String, String) {
        switch problem.status.code {
        case 403 where problem.code == "formToken": (problem.title, problem.detail)
        case 403: ("You cannot see this page", "Your role does not allow this. Ask your manager if you need it.")
        case 404:
            ("Page not found", "If you typed the web address, check it is correct. If you followed a link, the case may not be in your council.")
        case 409, 412: ("The case has changed", "Someone else recorded something on this case first. Go back to the case, check it, and try again.")
        case 429: ("Too many attempts", "Wait a few minutes and try again.")
        case 400..<500: ("There is a problem with the request", problem.detail)
        default: ("Sorry, there is a problem with the service", "Try again later. What you entered has not been saved.")
        }
    }
}

struct ErrorPage {
    var layout: Layout
    var message: String
}
