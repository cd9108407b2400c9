import PLSDomain

/// The indicators the registries can answer already (plan 四(十): centres, stations and committees everywhere). The
/// plan asks for them without a number: full coverage is the bureau's target.
enum RegistryIndicators {
    static let all: [IndicatorDefinition] = [
        IndicatorDefinition(
            id: "county_centre_coverage", name: "市、县（区）公共法律服务中心覆盖率", capability: "registry",
            unit: .percent, target: 100, comparator: .atLeast,
            basis: "实施方案四（十）：强化市、县（区）两级公共法律服务中心建设", targetSource: .bureau,
            compute: { scope, db in
                // The city counts as a unit only when the whole city is asked for.
                let levels: [RegionLevel] = scope.region.level == .city ? [.city, .county] : [.county]
                return try await CoverageQuery(unitLevels: levels, institutionType: .publicLegalServiceCentre).run(scope, on: db)
            }),
        IndicatorDefinition(
            id: "town_station_coverage", name: "镇（街道）公共法律服务工作站覆盖率", capability: "registry",
            unit: .percent, target: 100, comparator: .atLeast,
            basis: "实施方案四（十）：依托司法所构建覆盖城乡居民的公共法律服务实体平台", targetSource: .bureau,
            compute: { scope, db in
                try await CoverageQuery(unitLevels: [.town], institutionType: .publicLegalServiceStation).run(scope, on: db)
            }),
        IndicatorDefinition(
            id: "mediation_committee_coverage", name: "镇（街道）、村（社区）人民调解委员会覆盖率", capability: "registry",
            unit: .percent, target: 100, comparator: .atLeast,
            basis: "实施方案二（三）：巩固和规范镇（街道）、村（居）人民调解委员会建设", targetSource: .bureau,
            compute: { scope, db in
                try await CoverageQuery(unitLevels: [.town, .village], institutionType: .mediationCommittee,
                                        committeeKinds: [.town, .village]).run(scope, on: db)
            }),
    ]
}
