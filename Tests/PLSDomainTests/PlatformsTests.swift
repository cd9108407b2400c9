import Testing
@testable import PLSDomain

@Suite("Scopes of department systems")
struct ClientScopeTests {
    @Test("Known scopes only, none twice, at least one; only the channels other departments send on")
    func parse() {
        #expect(ClientScope.parse(["submit:transfer_12345", "read:submitted", "submit:transfer_12345"]) == .success([.submit(.transfer12345), .readSubmitted]))
        #expect(ClientScope.parse([]) == .failure(.empty))
        #expect(ClientScope.parse(["submit:web"]) == .failure(.unknown("submit:web")), "a system never submits as a citizen")
        #expect(ClientScope.parse(["admin"]) == .failure(.unknown("admin")))
        #expect(ClientScope.all.map(\.rawValue) == ["submit:transfer_12345", "submit:transfer_110", "submit:referral", "read:submitted", "telephony",
                                                    "receive:12345", "receive:110"])
        #expect(ClientScope(rawValue: "receive:court") == nil, "transfers to a court keep the reference typed by hand")
        #expect(ClientScope(rawValue: "receive:") == nil)
        for s in ClientScope.all { #expect(ClientScope(rawValue: s.rawValue) == s) }
    }

    @Test("Callbacks wait 10 s, doubling to an hour, however many attempts")
    func backoff() {
        #expect(CallbackSchedule.backoff(afterAttempts: 1) == 10)
        #expect(CallbackSchedule.backoff(afterAttempts: 2) == 20)
        #expect(CallbackSchedule.backoff(afterAttempts: 9) == 2_560)
        #expect(CallbackSchedule.backoff(afterAttempts: 10) == 3_600)
        #expect(CallbackSchedule.backoff(afterAttempts: 1_000_000) == 3_600)
        #expect(CallbackSchedule.backoff(afterAttempts: -5) == 10)
    }
}

@Suite("Calls as the exchange reports them")
struct CallFlowTests {
    @Test("Answered or abandoned from ringing; a voicemail after no answer; nothing moves a call back")
    func flow() {
        #expect(CallFlow.next(from: .ringing, on: .answer) == .answered)
        #expect(CallFlow.next(from: .ringing, on: .hangup) == .abandoned)
        #expect(CallFlow.next(from: .answered, on: .hangup) == .ended)
        #expect(CallFlow.next(from: .abandoned, on: .voicemail) == .voicemail)
        #expect(CallFlow.next(from: .ended, on: .answer) == .ended, "a late answer after the hang-up")
        #expect(CallFlow.next(from: .ended, on: .rating) == .ended)
        #expect(CallFlow.next(from: .answered, on: .transfer) == .answered)
        #expect(CallFlow.next(from: .answered, on: .ring) == .answered, "a repeated ring")
        for s in CallState.allCases { #expect(CallFlow.next(from: s, on: .rating) == s) }
    }
}

@Suite("Queue tickets at a walk-in centre")
struct QueueTicketTests {
    @Test("Numbers by matter letter and the day's sequence")
    func numbers() {
        #expect(QueueTicket.number(matter: .consultation, sequence: 7) == "A007")
        #expect(QueueTicket.number(matter: .legalAid, sequence: 123) == "B123")
        #expect(QueueTicket.number(matter: .mediation, sequence: 1234) == "C1234")
        #expect(QueueTicket.number(matter: .complaint, sequence: -3) == "G000")
    }

    @Test("Priority first, then the longest waiting; a window serving some matters calls only theirs")
    func next() {
        let w = [QueueTicket.Waiting(id: "a", priority: false, issuedAt: 10, matter: .consultation),
                 QueueTicket.Waiting(id: "b", priority: false, issuedAt: 5, matter: .mediation),
                 QueueTicket.Waiting(id: "c", priority: true, issuedAt: 20, matter: .consultation),
                 QueueTicket.Waiting(id: "d", priority: true, issuedAt: 30, matter: .legalAid)]
        #expect(QueueTicket.next(w)?.id == "c", "the elderly visitor who came later goes first")
        #expect(QueueTicket.next(w, serving: [.mediation])?.id == "b")
        #expect(QueueTicket.next(w, serving: [.notarization]) == nil)
        #expect(QueueTicket.next(w.filter { !$0.priority })?.id == "b")
        #expect(QueueTicket.next([]) == nil)
        let sameInstant = [QueueTicket.Waiting(id: "z", priority: false, issuedAt: 1, matter: .consultation, sequence: 1),
                           QueueTicket.Waiting(id: "a", priority: false, issuedAt: 1, matter: .consultation, sequence: 2)]
        #expect(QueueTicket.next(sameInstant)?.id == "z", "issued in the same instant: by number")
    }
}

@Suite("应驻尽驻 at the city's and the counties' centres")
struct StationingTests {
    @Test("The city's centre hosts every function the plan names; a county's, those a county has")
    func required() {
        #expect(StationedFunction.required(at: .city).count == 9)
        #expect(StationedFunction.required(at: .county) == [.legalAid, .mediation, .consultation, .publicity, .lawyer, .notarization])
        #expect(StationedFunction.required(at: .town).isEmpty)
        #expect(Stationing.missing(hosted: [.legalAid, .mediation], level: .county) == [.consultation, .publicity, .lawyer, .notarization])
        #expect(Stationing.missing(hosted: Set(StationedFunction.allCases), level: .city).isEmpty)
        #expect(StationedFunction.examination.chineseName == "法律职业资格考试")
    }
}

@Suite("Quality checks of hotline calls")
struct CallQualityTests {
    @Test("Five percent, rounded up: one call of any operator who answered one; never more than answered")
    func sampleSize() {
        #expect(CallQuality.sampleSize(answered: 0, sharePercent: 5) == 0)
        #expect(CallQuality.sampleSize(answered: 1, sharePercent: 5) == 1)
        #expect(CallQuality.sampleSize(answered: 20, sharePercent: 5) == 1)
        #expect(CallQuality.sampleSize(answered: 21, sharePercent: 5) == 2)
        #expect(CallQuality.sampleSize(answered: 400, sharePercent: 5) == 20)
        #expect(CallQuality.sampleSize(answered: 3, sharePercent: 100) == 3)
        #expect(CallQuality.sampleSize(answered: 3, sharePercent: 1_000) == 3, "a share out of range is bounded")
        #expect(CallQuality.sampleSize(answered: Int.max / 200, sharePercent: 5) > 0, "no overflow on a large month")
    }

    @Test("A seeded draw is reproducible, of the size asked, with no call twice")
    func draw() {
        let calls = (1...40).map { "C\($0)" }
        let a = CallQuality.draw(calls, count: 3, seed: "2026-03|operator")
        #expect(a == CallQuality.draw(calls, count: 3, seed: "2026-03|operator"))
        #expect(a.count == 3 && Set(a).count == 3)
        #expect(CallQuality.draw(calls, count: 100, seed: "x").count == 40)
        #expect(CallQuality.draw([String](), count: 3, seed: "x").isEmpty)
    }

    @Test("The checklist adds to 100; every item scored within its points")
    func total() {
        #expect(CallQuality.Item.allCases.map(\.points).reduce(0, +) == 100)
        #expect(CallQuality.total([.greeting: 20, .accuracy: 35, .attitude: 20, .closure: 15]) == .success(90))
        #expect(CallQuality.total([.greeting: 20, .accuracy: 35, .attitude: 20]) == .failure(.missing(.closure)))
        #expect(CallQuality.total([.greeting: 21, .accuracy: 35, .attitude: 20, .closure: 15]) == .failure(.outOfRange(.greeting)))
        #expect(CallQuality.total([.greeting: -1, .accuracy: 35, .attitude: 20, .closure: 15]) == .failure(.outOfRange(.greeting)))
    }
}

@Suite("Centre hours, slots and check-in")
struct CentreHoursTests {
    @Test("Hours as typed: sessions in order, slots and capacity within bounds")
    func make() {
        let h = try? CentreHours.make(sessions: [("08:30", "12:00"), ("14:00", "17:30")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20).get()
        #expect(h == CentreHours.standard)
        #expect(CentreHours.make(sessions: [("12:00", "08:30")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.session))
        #expect(CentreHours.make(sessions: [("08:30", "12:00"), ("11:00", "17:00")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.order))
        #expect(CentreHours.make(sessions: [("8:3", "12:00")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.session))
        #expect(CentreHours.make(sessions: [("24:00", "25:00")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.session))
        #expect(CentreHours.make(sessions: [], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.session))
        #expect(CentreHours.make(sessions: [("08:30", "12:00")], slotMinutes: 5, slotCapacity: 2, waitTargetMinutes: 20) == .failure(.slot))
        #expect(CentreHours.make(sessions: [("08:30", "12:00")], slotMinutes: 30, slotCapacity: 0, waitTargetMinutes: 20) == .failure(.capacity))
        #expect(CentreHours.make(sessions: [("08:30", "12:00")], slotMinutes: 30, slotCapacity: 2, waitTargetMinutes: 500) == .failure(.waitTarget))
    }

    @Test("Whole slots inside each session; a short tail is not offered")
    func slots() {
        let s = CentreHours.standard.slots
        #expect(s.count == 14, "7 in the morning (08:30–12:00), 7 in the afternoon (14:00–17:30)")
        #expect(s.first == 510...540 && s.last == 1020...1050)
        let odd = CentreHours(sessions: [540...640], slotMinutes: 45, slotCapacity: 1, waitTargetMinutes: 20)
        #expect(odd.slots == [540...585, 585...630], "09:00–10:40 in 45-minute slots: the last 10 minutes are no slot")
        #expect(CentreHours.standard.isSlot(840) && !CentreHours.standard.isSlot(845))
        #expect(CentreHours.text(510) == "08:30" && CentreHours.minutes("08:30") == 510)
    }

    @Test("Check in from half an hour before the slot until it ends")
    func checkIn() {
        let slot = 600...630
        #expect(AppointmentRules.checkIn(at: 569, slot: slot) == .tooEarly)
        #expect(AppointmentRules.checkIn(at: 570, slot: slot) == .allowed)
        #expect(AppointmentRules.checkIn(at: 630, slot: slot) == .allowed)
        #expect(AppointmentRules.checkIn(at: 631, slot: slot) == .tooLate)
    }

    @Test("An appointment is called after the groups served first and before walk-ins who came earlier")
    func appointmentsBeforeWalkIns() {
        let walkIn = QueueTicket.Waiting(id: "a", priority: false, issuedAt: 0, matter: .consultation)
        let booked = QueueTicket.Waiting(id: "b", priority: false, issuedAt: 60, matter: .consultation, appointment: true)
        let elderly = QueueTicket.Waiting(id: "c", priority: true, issuedAt: 120, matter: .consultation)
        #expect(QueueTicket.next([walkIn, booked, elderly])?.id == "c")
        #expect(QueueTicket.next([walkIn, booked])?.id == "b")
    }
}
