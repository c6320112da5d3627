-- CreateTable
CREATE TABLE "Upload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sha256" TEXT NOT NULL,
    "originalName" TEXT,
    "format" TEXT NOT NULL,
    "sampleRate" INTEGER NOT NULL,
    "channels" INTEGER NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "warnings" TEXT NOT NULL DEFAULT '[]',
    "originalPath" TEXT NOT NULL,
    "pcmPath" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Job" (
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
    "engineId" TEXT NOT NULL,
    "engineVersion" TEXT NOT NULL,
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
    "outputPath" TEXT,
    "outputSampleRate" INTEGER,
    "outputDurationMs" INTEGER,
    "outputSha256" TEXT,
    "outputBytes" INTEGER,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Job_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Job" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_promptUploadId_fkey" FOREIGN KEY ("promptUploadId") REFERENCES "Upload" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "jobId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "level" TEXT,
    "payload" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Upload_sha256_key" ON "Upload"("sha256");

-- CreateIndex
CREATE INDEX "Job_status_id_idx" ON "Job"("status", "id");

-- CreateIndex
CREATE INDEX "Job_status_queuedAt_id_idx" ON "Job"("status", "queuedAt", "id");

-- CreateIndex
CREATE INDEX "Job_parentId_idx" ON "Job"("parentId");

-- CreateIndex
CREATE INDEX "JobEvent_jobId_type_idx" ON "JobEvent"("jobId", "type");

-- CreateIndex
CREATE UNIQUE INDEX "JobEvent_jobId_seq_key" ON "JobEvent"("jobId", "seq");
