-- Prisma writes JSON defaults unquoted for SQLite ([] and {}), which SQLite rejects; quoted here by hand.
-- CreateTable
CREATE TABLE "WorkerToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdById" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "WorkerToken_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "WorkerNode" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "engines" JSONB NOT NULL,
    "resources" JSONB NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "lastHeartbeatAt" DATETIME NOT NULL,
    "stoppedAt" DATETIME,
    CONSTRAINT "WorkerNode_tokenId_fkey" FOREIGN KEY ("tokenId") REFERENCES "WorkerToken" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Upload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sha256" TEXT NOT NULL,
    "originalName" TEXT,
    "format" TEXT NOT NULL,
    "sampleRate" INTEGER NOT NULL,
    "channels" INTEGER NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "warnings" JSONB NOT NULL DEFAULT '[]',
    "originalPath" TEXT NOT NULL,
    "pcmPath" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploadedById" TEXT,
    CONSTRAINT "Upload_uploadedById_fkey" FOREIGN KEY ("uploadedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Upload" ("channels", "createdAt", "durationMs", "format", "id", "originalName", "originalPath", "pcmPath", "sampleRate", "sha256", "sizeBytes", "uploadedById", "warnings") SELECT "channels", "createdAt", "durationMs", "format", "id", "originalName", "originalPath", "pcmPath", "sampleRate", "sha256", "sizeBytes", "uploadedById", "warnings" FROM "Upload";
DROP TABLE "Upload";
ALTER TABLE "new_Upload" RENAME TO "Upload";
CREATE INDEX "Upload_uploadedById_createdAt_idx" ON "Upload"("uploadedById", "createdAt");
CREATE UNIQUE INDEX "Upload_sha256_uploadedById_key" ON "Upload"("sha256", "uploadedById");
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "parentId" TEXT,
    "mode" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "promptUploadId" TEXT,
    "promptText" TEXT,
    "instruct" TEXT,
    "speakerId" TEXT,
    "speed" REAL NOT NULL DEFAULT 1,
    "seed" INTEGER NOT NULL,
    "createdById" TEXT,
    "canceledById" TEXT,
    "engineId" TEXT NOT NULL,
    "engineKind" TEXT NOT NULL DEFAULT 'builtin',
    "engineVersion" TEXT NOT NULL,
    "deterministic" BOOLEAN NOT NULL DEFAULT true,
    "status" TEXT NOT NULL,
    "stage" TEXT,
    "stageIndex" INTEGER,
    "stageCount" INTEGER,
    "progressStep" INTEGER,
    "progressTotal" INTEGER,
    "progressPct" REAL,
    "etaMs" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "errorHint" TEXT,
    "failureFingerprint" TEXT,
    "reviewNote" TEXT,
    "parentRelation" TEXT,
    "clientRequestId" TEXT,
    "clientRequestHash" TEXT,
    "outputPath" TEXT,
    "outputSampleRate" INTEGER,
    "outputDurationMs" INTEGER,
    "outputSha256" TEXT,
    "outputBytes" INTEGER,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "priority" INTEGER NOT NULL DEFAULT 1,
    "leaseOwner" TEXT,
    "leaseExpiresAt" DATETIME,
    "leaseEpoch" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Job_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Job" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_promptUploadId_fkey" FOREIGN KEY ("promptUploadId") REFERENCES "Upload" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_canceledById_fkey" FOREIGN KEY ("canceledById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Job" ("attempts", "cancelRequested", "canceledById", "clientRequestHash", "clientRequestId", "createdAt", "createdById", "deterministic", "engineId", "engineKind", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "failureFingerprint", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "parentRelation", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "reviewNote", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt") SELECT "attempts", "cancelRequested", "canceledById", "clientRequestHash", "clientRequestId", "createdAt", "createdById", "deterministic", "engineId", "engineKind", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "failureFingerprint", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "parentRelation", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "reviewNote", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt" FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE INDEX "Job_status_id_idx" ON "Job"("status", "id");
CREATE INDEX "Job_status_queuedAt_id_idx" ON "Job"("status", "queuedAt", "id");
CREATE INDEX "Job_parentId_idx" ON "Job"("parentId");
CREATE INDEX "Job_createdById_id_idx" ON "Job"("createdById", "id");
CREATE INDEX "Job_failureFingerprint_finishedAt_idx" ON "Job"("failureFingerprint", "finishedAt");
CREATE INDEX "Job_status_leaseExpiresAt_idx" ON "Job"("status", "leaseExpiresAt");
CREATE UNIQUE INDEX "Job_createdById_clientRequestId_key" ON "Job"("createdById", "clientRequestId");
CREATE TABLE "new_JobEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "jobId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "level" TEXT,
    "payload" JSONB NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_JobEvent" ("at", "id", "jobId", "level", "payload", "seq", "type") SELECT "at", "id", "jobId", "level", "payload", "seq", "type" FROM "JobEvent";
DROP TABLE "JobEvent";
ALTER TABLE "new_JobEvent" RENAME TO "JobEvent";
CREATE INDEX "JobEvent_jobId_type_idx" ON "JobEvent"("jobId", "type");
CREATE UNIQUE INDEX "JobEvent_jobId_seq_key" ON "JobEvent"("jobId", "seq");
CREATE TABLE "new_AuditEntry" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorEmail" TEXT,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "ip" TEXT
);
INSERT INTO "new_AuditEntry" ("action", "actorEmail", "actorId", "at", "detail", "id", "ip", "targetId", "targetType") SELECT "action", "actorEmail", "actorId", "at", "detail", "id", "ip", "targetId", "targetType" FROM "AuditEntry";
DROP TABLE "AuditEntry";
ALTER TABLE "new_AuditEntry" RENAME TO "AuditEntry";
CREATE INDEX "AuditEntry_at_idx" ON "AuditEntry"("at");
CREATE INDEX "AuditEntry_actorId_at_idx" ON "AuditEntry"("actorId", "at");
CREATE INDEX "AuditEntry_action_at_idx" ON "AuditEntry"("action", "at");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "WorkerToken_tokenHash_key" ON "WorkerToken"("tokenHash");

-- CreateIndex
CREATE INDEX "WorkerNode_lastHeartbeatAt_idx" ON "WorkerNode"("lastHeartbeatAt");
