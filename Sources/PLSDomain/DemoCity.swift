import Foundation

/// 示范市: the fictional prefecture-level city that a new installation starts with.
/// Pure data, deterministic for a given scale, so tests can rely on names, codes and counts.
public struct DemoCity: Sendable {
    public struct Region: Sendable {
        public var code: DivisionCode
        public var name: String
        public var level: RegionLevel
        public var kind: VillageKind?
        public var population: Int
    }

    public struct Institution: Sendable {
        public var id: UUID
        public var type: InstitutionType
        public var name: String
        public var region: DivisionCode
        public var address: String
        public var phone: String
        public var openingHours: String
        public var latitude: Double
        public var longitude: Double
        public var committeeKind: MediationCommitteeKind?
        public var industryField: IndustryField?
        /// Government bodies only.
        public var bodyKind: GovernmentBodyKind? = nil
        public var enforcementHeavy = false
    }

    public struct Practitioner: Sendable {
        public var id: UUID
        public var type: PractitionerType
        public var name: String
        public var gender: Gender
        public var licenceNumber: String
        public var institutionID: UUID
        public var region: DivisionCode
        public var specialities: [Category]
        public var regionsServed: [DivisionCode]
    }

    public struct Account: Sendable {
        public var username: String?
        public var mobile: String?
        public var displayName: String
        public var role: Role
        public var region: DivisionCode
        public var institutionID: UUID?
        public var practitionerID: UUID?
    }

    public enum Scale: Sendable {
        /// The city of architecture.md: 5 counties, 85 towns, 1,360 villages, 3,024 natural villages.
        case full
        /// A few of each, for fast tests.
        case small
    }

    public static let cityCode = DivisionCode("349900000000")!
    public static let cityName = "示范市"
    public static let password = "demo12348"

    /// The city-level region at the root of this city's registry (`cityCode`, unless `relocated`).
    public var rootCode: DivisionCode { regions.first { $0.level == .city }?.code ?? Self.cityCode }
    public static let citizenMobile = "13800000000"

    public private(set) var regions: [Region] = []
    public private(set) var institutions: [Institution] = []
    public private(set) var practitioners: [Practitioner] = []
    public private(set) var accounts: [Account] = []

    private var rng = SeededGenerator(seed: 0x5348_4946_414E_4353)

    public init(scale: Scale = .full) {
        build(scale)
    }

    /// The same city under other codes and another name: every code's first four digits (province and city) become
    /// `prefix`, and "示范市" in every name becomes `name`. Tests run the journeys on it to show that nothing in the
    /// code assumes the demo city.
    public func relocated(toCityPrefix prefix: String, name: String) -> DemoCity {
        precondition(prefix.count == 4 && prefix.allSatisfy(\.isNumber) && !prefix.hasSuffix("00"), "a province and city code")
        func move(_ code: DivisionCode) -> DivisionCode { DivisionCode(prefix + code.rawValue.dropFirst(4))! }
        func rename(_ text: String) -> String { text.replacingOccurrences(of: Self.cityName, with: name) }
        var city = self
        city.regions = regions.map { var r = $0; r.code = move(r.code); r.name = rename(r.name); return r }
        city.institutions = institutions.map { var i = $0; i.region = move(i.region); i.name = rename(i.name); i.address = rename(i.address); return i }
        city.practitioners = practitioners.map { var p = $0; p.region = move(p.region); p.regionsServed = p.regionsServed.map(move); return p }
        city.accounts = accounts.map { var a = $0; a.region = move(a.region); a.displayName = rename(a.displayName); return a }
        city.regionNames = Dictionary(uniqueKeysWithValues: regionNames.map { (move($0.key), rename($0.value)) })
        return city
    }

    // MARK: - Generation

    private struct CountySpec { let code: String; let name: String; let urban: Bool; let lat: Double; let lon: Double }
    private static let counties: [CountySpec] = [
        .init(code: "349901", name: "城关区", urban: true, lat: 32.30, lon: 118.31),
        .init(code: "349902", name: "东湖区", urban: true, lat: 32.28, lon: 118.40),
        .init(code: "349921", name: "西山县", urban: false, lat: 32.45, lon: 118.05),
        .init(code: "349922", name: "南河县", urban: false, lat: 32.02, lon: 118.22),
        .init(code: "349923", name: "北岭县", urban: false, lat: 32.66, lon: 118.35),
    ]

    private static let placeFirst = Array("青白石桃柳金龙凤梅松杨李马高新长平安宁和兴丰永清双三古花荷云")
    private static let placeSecond = Array("山河湖桥岗集店庄圩埠塘坝岭湾港溪林园阳口")
    private static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方")
    private static let givenChars = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌浩宇欣怡晨阳子涵梓轩雨佳俊峰海波志鹏凯丹慧琳")
    private static let femaleChars = Set("芳娜敏静丽艳娟秀霞桂英玉兰萍红欣怡涵雨佳丹慧琳")
    private static let firmWords = ["正大", "明德", "天平", "诚信", "公正", "华安", "博文", "众合", "法泰", "金诚", "尚法", "衡平",
                                    "道勤", "君泽", "合众", "信达", "宏图", "嘉和", "启明", "致远", "卓越", "同心", "汇智", "鼎盛",
                                    "国晟", "锦天", "德衡", "思源", "申汇", "中坤", "恒信", "长淮", "皖江", "淮扬", "正义", "鸿韵",
                                    "江淮", "徽商", "楚汉", "方圆"]
    private static let roads = ["人民路", "长江路", "淮河路", "建设路", "解放路", "和平路", "文化路", "胜利路", "新华路", "中山路"]
    private static let hours = "工作日 8:30—12:00，14:30—17:30"

    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    private mutating func uuid() -> UUID {
        let a = rng.next(), b = rng.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i)); bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * i)) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    private mutating func personName() -> (String, Gender) {
        var given = String(pick(Self.givenChars))
        if chance(0.7) { given.append(pick(Self.givenChars)) }
        let gender: Gender = given.contains(where: Self.femaleChars.contains) ? .female : .male
        return (String(pick(Self.surnames)) + given, gender)
    }

    /// Unique two-character place names within one parent.
    private mutating func placeNames(_ count: Int) -> [String] {
        var used = Set<String>(), names: [String] = []
        while names.count < count {
            let n = String(pick(Self.placeFirst)) + String(pick(Self.placeSecond))
            if used.insert(n).inserted { names.append(n) }
        }
        return names
    }

    private mutating func phone() -> String { "0550-" + String(int(2_000_000...8_999_999)) }

    private mutating func licence(_ type: PractitionerType, gender: Gender, serial: Int) -> String {
        // 17 digits, shaped like a lawyer's licence number: kind, region, first year, sex, serial.
        let kind: String
        switch type {
        case .lawyer: kind = "1"
        case .publicLawyer: kind = "3"
        case .corporateLawyer: kind = "4"
        case .notary: kind = "6"
        case .appraiser: kind = "7"
        case .arbitrator: kind = "8"
        case .legalAidOfficer: kind = "5"
        case .grassrootsLegalWorker: kind = "2"
        case .mediator: kind = "9"
        }
        let year = String(int(1998...2024))
        let serialText = String(serial)
        return kind + "3499" + year + (gender == .male ? "1" : "2") + String(repeating: "0", count: 7 - serialText.count) + serialText
    }

    private var serial = 0

    private mutating func addInstitution(_ type: InstitutionType, _ name: String, in region: DivisionCode, lat: Double, lon: Double,
                                         committee: MediationCommitteeKind? = nil, field: IndustryField? = nil,
                                         phone fixedPhone: String? = nil) -> UUID {
        let id = uuid()
        let road = pick(Self.roads)
        let address = regionPath(region) + road + String(int(1...300)) + "号"
        let phone = fixedPhone ?? phone()
        institutions.append(.init(id: id, type: type, name: name, region: region, address: address, phone: phone,
                                  openingHours: Self.hours, latitude: lat + Double(int(-300...300)) / 10_000,
                                  longitude: lon + Double(int(-300...300)) / 10_000, committeeKind: committee, industryField: field,
                                  bodyKind: type == .governmentBody ? GovernmentBodies.suggestedKind(name: name) : nil,
                                  enforcementHeavy: type == .governmentBody && GovernmentBodies.isNamedEnforcementDepartment(name: name)))
        return id
    }

    private var regionNames: [DivisionCode: String] = [:]
    private func regionPath(_ code: DivisionCode) -> String {
        var parts: [String] = [], c: DivisionCode? = code
        while let current = c { if let n = regionNames[current] { parts.insert(n, at: 0) }; c = current.parent }
        return parts.joined()
    }

    @discardableResult
    private mutating func addPractitioners(_ type: PractitionerType, count: Int, at institution: UUID, region: DivisionCode,
                                           serving: [DivisionCode], specialities: [Category] = []) -> [UUID] {
        var ids: [UUID] = []
        for _ in 0..<count {
            serial += 1
            let (name, gender) = personName()
            var specs = specialities
            if specs.isEmpty, [.lawyer, .grassrootsLegalWorker, .legalAidOfficer, .mediator].contains(type) {
                var chosen = Set<Category>()
                // The pool as it was before 邻里纠纷 was added: the demo city's people stay who the tests know.
                let pool = Category.allCases.filter { $0 != .other && $0 != .neighbourhood }
                for _ in 0..<int(1...3) { chosen.insert(pick(pool)) }
                specs = pool.filter(chosen.contains)
            }
            let id = uuid()
            practitioners.append(.init(id: id, type: type, name: name, gender: gender,
                                       licenceNumber: licence(type, gender: gender, serial: serial), institutionID: institution,
                                       region: region, specialities: specs, regionsServed: serving))
            ids.append(id)
        }
        return ids
    }

    private mutating func build(_ scale: Scale) {
        let city = Self.cityCode
        let small = scale == .small
        regions.append(.init(code: city, name: Self.cityName, level: .city, kind: nil, population: 3_912_000))
        regionNames[city] = Self.cityName
        let cityLat = 32.30, cityLon = 118.31

        let cityCentre = addInstitution(.publicLegalServiceCentre, "示范市公共法律服务中心", in: city, lat: cityLat, lon: cityLon, phone: "12348")
        let cityAid = addInstitution(.legalAidCentre, "示范市法律援助中心", in: city, lat: cityLat, lon: cityLon, phone: "12348")
        addPractitioners(.legalAidOfficer, count: 6, at: cityAid, region: city, serving: [city])
        let arbitration = addInstitution(.arbitrationCommission, "示范仲裁委员会", in: city, lat: cityLat, lon: cityLon)
        addPractitioners(.arbitrator, count: small ? 3 : 24, at: arbitration, region: city, serving: [city], specialities: [.contractDebt, .property, .labor])
        let cityNotary = addInstitution(.notaryOffice, "示范市公证处", in: city, lat: cityLat, lon: cityLon)
        addPractitioners(.notary, count: small ? 2 : 9, at: cityNotary, region: city, serving: [city])
        for (i, name) in ["示范市人民医院司法鉴定所", "示范明正司法鉴定中心", "示范交通事故司法鉴定所", "示范精神疾病司法鉴定所", "示范文书痕迹司法鉴定所"].enumerated() where !small || i < 2 {
            let id = addInstitution(.appraisalInstitution, name, in: city, lat: cityLat, lon: cityLon)
            addPractitioners(.appraiser, count: 4, at: id, region: city, serving: [city])
        }
        for field in [IndustryField.medical, .traffic, .propertyManagement, .consumer, .tourism, .labor] where !small || field == .medical {
            let id = addInstitution(.mediationCommittee, "示范市\(field.chineseName)人民调解委员会", in: city, lat: cityLat, lon: cityLon,
                                    committee: .industry, field: field)
            addPractitioners(.mediator, count: 3, at: id, region: city, serving: [city], specialities: [Self.category(of: field)])
        }
        var govBodies: [UUID] = []
        govBodies.append(addInstitution(.governmentBody, "中共示范市委员会", in: city, lat: cityLat, lon: cityLon))
        govBodies.append(addInstitution(.governmentBody, "示范市人民政府", in: city, lat: cityLat, lon: cityLon))
        for dept in ["市场监督管理局", "城市管理局", "税务局", "住房和城乡建设局", "自然资源和规划局", "生态环境局", "交通运输局"] where !small {
            govBodies.append(addInstitution(.governmentBody, "示范市" + dept, in: city, lat: cityLat, lon: cityLon))
        }
        for body in govBodies.prefix(small ? 1 : 5) {
            addPractitioners(.publicLawyer, count: 2, at: body, region: city, serving: [city], specialities: [.administrative])
        }
        for (i, name) in ["示范市第一中学", "示范市实验学校", "示范市第二中学", "示范市职业技术学校", "示范市外国语学校", "示范市特殊教育学校"].enumerated() where !small || i < 1 {
            _ = addInstitution(.school, name, in: city, lat: cityLat, lon: cityLon)
        }

        var firmWords = Self.firmWords
        var firstFirm: UUID?, firstTownMediator: UUID?, firstWorker: UUID?
        let countySpecs = small ? Array(Self.counties.prefix(2)) : Self.counties
        for spec in countySpecs {
            let county = DivisionCode(spec.code + "000000")!
            let townCount = small ? 2 : 17
            let streetCount = small ? 1 : (spec.urban ? 8 : 2)
            let villagesPerTown = small ? 3 : 16
            regions.append(.init(code: county, name: spec.name, level: .county, kind: nil,
                                 population: spec.urban ? int(620_000...880_000) : int(480_000...760_000)))
            regionNames[county] = spec.name
            let shortName = String(spec.name.dropLast())
            _ = addInstitution(.publicLegalServiceCentre, "\(spec.name)公共法律服务中心", in: county, lat: spec.lat, lon: spec.lon)
            let aid = addInstitution(.legalAidCentre, "\(spec.name)法律援助中心", in: county, lat: spec.lat, lon: spec.lon)
            addPractitioners(.legalAidOfficer, count: small ? 2 : 4, at: aid, region: county, serving: [county])
            let notary = addInstitution(.notaryOffice, "示范市\(shortName)公证处", in: county, lat: spec.lat, lon: spec.lon)
            addPractitioners(.notary, count: small ? 1 : 4, at: notary, region: county, serving: [county])
            _ = addInstitution(.governmentBody, "中共\(spec.name)委员会", in: county, lat: spec.lat, lon: spec.lon)
            _ = addInstitution(.governmentBody, "\(spec.name)人民政府", in: county, lat: spec.lat, lon: spec.lon)

            for _ in 0..<(small ? 1 : (spec.urban ? 9 : 5)) {
                let word = firmWords.remove(at: int(0...(firmWords.count - 1)))
                let firm = addInstitution(.lawFirm, "安徽\(word)律师事务所", in: county, lat: spec.lat, lon: spec.lon)
                if firstFirm == nil { firstFirm = firm }
                addPractitioners(.lawyer, count: small ? 3 : int(5...14), at: firm, region: county, serving: [county])
            }

            let townNames = placeNames(townCount)
            for t in 0..<townCount {
                let isStreet = t < streetCount
                let townSeq = isStreet ? t + 1 : 100 + (t - streetCount) + 1
                let town = DivisionCode(spec.code + Self.pad(townSeq, 3) + "000")!
                let townName = townNames[t] + (isStreet ? "街道" : "镇")
                regions.append(.init(code: town, name: townName, level: .town, kind: nil, population: int(18_000...65_000)))
                regionNames[town] = townName
                let tLat = spec.lat + Double(int(-900...900)) / 10_000, tLon = spec.lon + Double(int(-900...900)) / 10_000
                _ = addInstitution(.publicLegalServiceStation, "\(townName)公共法律服务工作站", in: town, lat: tLat, lon: tLon)
                _ = addInstitution(.judicialOffice, "\(townName)司法所", in: town, lat: tLat, lon: tLon)
                let townCommittee = addInstitution(.mediationCommittee, "\(townName)人民调解委员会", in: town, lat: tLat, lon: tLon, committee: .town)
                let mediators = addPractitioners(.mediator, count: 3, at: townCommittee, region: town, serving: [town])
                if firstTownMediator == nil { firstTownMediator = mediators.first }
                _ = addInstitution(.school, "\(townName)中心学校", in: town, lat: tLat, lon: tLon)
                _ = addInstitution(.governmentBody, isStreet ? "中共\(townName)工作委员会" : "中共\(townName)委员会", in: town, lat: tLat, lon: tLon)
                _ = addInstitution(.governmentBody, isStreet ? "\(townName)办事处" : "\(townName)人民政府", in: town, lat: tLat, lon: tLon)
                if t % 3 == 0 {
                    let office = addInstitution(.grassrootsLegalServiceOffice, "\(townName)法律服务所", in: town, lat: tLat, lon: tLon)
                    let workers = addPractitioners(.grassrootsLegalWorker, count: small ? 1 : 3, at: office, region: town, serving: [town])
                    if firstWorker == nil { firstWorker = workers.first }
                }

                let villageNames = placeNames(villagesPerTown)
                for v in 0..<villagesPerTown {
                    let village = DivisionCode(town.rawValue.prefix(9) + Self.pad(isStreet ? v + 1 : 200 + v + 1, 3))!
                    let kind: VillageKind = isStreet ? .community : .rural
                    let villageName = villageNames[v] + (isStreet ? "社区" : "村")
                    regions.append(.init(code: village, name: villageName, level: .village, kind: kind,
                                         population: isStreet ? int(3_000...9_000) : int(1_200...4_500)))
                    regionNames[village] = villageName
                    let vLat = tLat + Double(int(-200...200)) / 10_000, vLon = tLon + Double(int(-200...200)) / 10_000
                    // Most villages have a room and a committee; the rest are the gaps the indicators show.
                    if !chance(0.08) {
                        _ = addInstitution(.publicLegalServiceRoom, "\(villageName)公共法律服务工作室", in: village, lat: vLat, lon: vLon)
                    }
                    if !chance(0.05) {
                        let committee = addInstitution(.mediationCommittee, "\(villageName)人民调解委员会", in: village, lat: vLat, lon: vLon, committee: .village)
                        addPractitioners(.mediator, count: 1, at: committee, region: village, serving: [village])
                    }
                    if kind == .rural {
                        for n in 1...3 {
                            let name = String(pick(Self.surnames)) + pick(["家庄", "家洼", "郢", "圩", "岗", "家湾", "塘", "店", "家集", "寨"])
                            regions.append(.init(code: village.naturalVillage(n)!, name: name, level: .naturalVillage, kind: nil,
                                                 population: int(180...900)))
                        }
                    }
                }
            }
        }

        let county = DivisionCode(Self.counties[0].code + "000000")!
        let firm = firstFirm!
        let lawyer = practitioners.first { $0.institutionID == firm }!
        let mediator = practitioners.first { $0.id == firstTownMediator }!
        let worker = practitioners.first { $0.id == firstWorker }!
        let countyAid = institutions.first { $0.type == .legalAidCentre && $0.region == county }!
        accounts = [
            .init(username: "admin", mobile: nil, displayName: "市司法局管理员", role: .cityAdmin, region: city),
            .init(username: "county-admin", mobile: nil, displayName: "\(Self.counties[0].name)司法局管理员", role: .countyAdmin, region: county),
            .init(username: "operator", mobile: nil, displayName: "12348 热线坐席", role: .hotlineOperator, region: city),
            .init(username: "clerk", mobile: nil, displayName: "市中心窗口", role: .windowClerk, region: city, institutionID: cityCentre),
            .init(username: "aid", mobile: nil, displayName: countyAid.name, role: .windowClerk, region: county, institutionID: countyAid.id),
            .init(username: "lawyer", mobile: nil, displayName: lawyer.name, role: .practitioner, region: lawyer.region,
                  institutionID: firm, practitionerID: lawyer.id),
            .init(username: "mediator", mobile: nil, displayName: mediator.name, role: .practitioner, region: mediator.region,
                  institutionID: mediator.institutionID, practitionerID: mediator.id),
            .init(username: "adviser", mobile: nil, displayName: worker.name, role: .practitioner, region: worker.region,
                  institutionID: worker.institutionID, practitionerID: worker.id),
            .init(username: "leader", mobile: nil, displayName: "市司法局领导", role: .leader, region: city),
            .init(username: "auditor", mobile: nil, displayName: "审计员", role: .auditor, region: city),
            .init(username: nil, mobile: Self.citizenMobile, displayName: "用户0000", role: .citizen, region: city),
        ]
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    private static func category(of field: IndustryField) -> Category {
        switch field {
        case .medical: .educationMedical
        case .traffic: .traffic
        case .propertyManagement: .property
        case .consumer: .consumer
        case .tourism: .tourism
        case .environment: .environment
        case .labor: .labor
        }
    }
}
