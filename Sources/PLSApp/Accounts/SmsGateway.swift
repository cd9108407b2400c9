import Vapor
import Fluent
import PLSDomain

/// The SMS gateway protocol. A city plugs in its carrier's gateway; the log-only one
/// records the message (the demo outbox shows it) and logs the masked number.
protocol SmsGateway: Sendable {
    func send(to mobile: MobileNumber, text: String, on db: any Database, at now: Date) async throws
}

struct LogOnlySmsGateway: SmsGateway {
    let logger: Logger
    let personalData: PersonalDataProtector

    func send(to mobile: MobileNumber, text: String, on db: any Database, at now: Date) async throws {
        let message = SmsMessage()
        message.mobileMasked = mobile.masked
        message.mobileHash = personalData.lookupHash(mobile.digits)
        // Codes, names and links in the text: sealed at rest like any personal data.
        message.text = try personalData.seal(text)
        message.createdAt = now
        try await message.create(on: db)
        logger.info("SMS to \(mobile.masked) queued (log-only gateway)")
    }
}

extension Application {
    private struct SmsKey: StorageKey { typealias Value = any SmsGateway }
    var sms: any SmsGateway {
        get { storage[SmsKey.self] ?? LogOnlySmsGateway(logger: logger, personalData: personalData) }
        set { storage[SmsKey.self] = newValue }
    }
}
