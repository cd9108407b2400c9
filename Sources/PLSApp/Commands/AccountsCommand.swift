import Vapor
import Fluent
import PLSDomain

/// `pls accounts create`: for operators setting up a city before anyone can sign in.
struct AccountsCommand: AsyncCommandGroup {
    var commands: [String: any AnyAsyncCommand] = ["create": AccountsCreateCommand()]
    var help: String { "Manage accounts" }
}

struct AccountsCreateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "username", help: "Sign-in name")
        var username: String?
        @Option(name: "name", help: "Display name")
        var name: String?
        @Option(name: "role", help: "citizen roles are self-registered; one of hotline_operator, window_clerk, practitioner, institution_admin, county_admin, city_admin, leader, auditor")
        var role: String?
        @Option(name: "region", help: "12-digit division code the account is bound to")
        var region: String?
        @Option(name: "institution", help: "Institution id (institution staff and practitioners)")
        var institution: String?
        @Option(name: "practitioner", help: "Practitioner id (practitioners)")
        var practitioner: String?
        @Option(name: "password", help: "Password; read from the PLS_PASSWORD environment variable when omitted")
        var password: String?
    }

    var help: String { "Create a staff account" }

    func run(using context: CommandContext, signature: Signature) async throws {
        // The command line acts with the city administrator's rights.
        let system = Principal(system: context.application.city)
        let input = AccountController.Input(
            username: signature.username, displayName: signature.name ?? signature.username, role: signature.role,
            regionCode: signature.region ?? context.application.city.code?.rawValue ?? "",
            institutionId: signature.institution.flatMap(UUID.init(uuidString:)),
            practitionerId: signature.practitioner.flatMap(UUID.init(uuidString:)),
            password: signature.password ?? Environment.get("PLS_PASSWORD"))
        do {
            let account = try await AccountController.save(input, existing: nil, by: system, actor: .commandLine, protector: context.application.personalData, now: context.application.clock.now, on: context.application.db)
            context.console.success("已创建账号 \(account.username ?? "") (\(account.id!))")
        } catch let e as AppError {
            context.console.error(e.message)
            for (field, message) in e.fields.sorted(by: { $0.key < $1.key }) { context.console.error("  --\(field): \(message)") }
            throw ExitCode(1)
        }
    }
}

extension Principal {
    /// The operator at the command line: a city administrator that is no account.
    init(system city: CityIdentity) {
        self.init(accountID: UUID(), displayName: "system", role: .cityAdmin, region: city.code, institutionID: nil, practitionerID: nil)
    }
}
